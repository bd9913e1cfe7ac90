package dev.citadel.infra;

import dev.citadel.infra.kafka.KafkaCluster;
import dev.citadel.infra.kafka.KafkaEndpoint;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.infra.postgres.PostgresServer;
import dev.citadel.infra.redis.RedisEndpoint;
import dev.citadel.infra.redis.RedisServer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** PostgreSQL, Redis and Kafka together, started in parallel and stopped in reverse. */
public final class Infrastructure implements AutoCloseable {

  /**
   * Ports for locally started PostgreSQL and Redis; 0 means a free port. Kafka's in-process kit
   * always picks free ports: see {@link #kafka()}.
   */
  public record Ports(int postgres, int redis) {
    public static final Ports FREE = new Ports(0, 0);
  }

  private final PostgresServer postgres;
  private final RedisServer redis;
  private final KafkaCluster kafka;

  private Infrastructure(PostgresServer postgres, RedisServer redis, KafkaCluster kafka) {
    this.postgres = postgres;
    this.redis = redis;
    this.kafka = kafka;
  }

  public static Infrastructure start(InfraSettings settings, Ports ports, int kafkaBrokers) {
    ExecutorService pool = Executors.newFixedThreadPool(3);
    CompletableFuture<PostgresServer> pg =
        CompletableFuture.supplyAsync(() -> PostgresServer.start(settings, ports.postgres()), pool);
    CompletableFuture<RedisServer> rd =
        CompletableFuture.supplyAsync(() -> RedisServer.start(settings, ports.redis()), pool);
    CompletableFuture<KafkaCluster> kf =
        CompletableFuture.supplyAsync(() -> KafkaCluster.start(settings, kafkaBrokers), pool);
    pool.shutdown();
    try {
      // Wait for all three, even when one fails early, so nothing is left half-started.
      CompletableFuture.allOf(pg, rd, kf).exceptionally(e -> null).join();
      CompletableFuture.allOf(pg, rd, kf).join();
      return new Infrastructure(pg.join(), rd.join(), kf.join());
    } catch (CompletionException e) {
      // Stop whatever did start, then report the first failure.
      List<AutoCloseable> started = new ArrayList<>();
      for (CompletableFuture<? extends AutoCloseable> f : List.of(pg, rd, kf)) {
        if (!f.isCompletedExceptionally()) {
          started.add(f.join());
        }
      }
      closeAll(started, e.getCause());
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
  }

  /** The Kafka cluster itself (one started in this JVM can stop a broker). */
  public KafkaCluster kafkaCluster() {
    return kafka;
  }

  public PostgresServer postgresServer() {
    return postgres;
  }

  public PostgresEndpoint postgres() {
    return postgres.endpoint();
  }

  public RedisEndpoint redis() {
    return redis.endpoint();
  }

  public KafkaEndpoint kafka() {
    return kafka.endpoint();
  }

  /** The CITADEL_* variables that point a service (or another tool) at this infrastructure. */
  public Map<String, String> environment() {
    return environment(postgres(), redis(), kafka());
  }

  public static Map<String, String> environment(
      PostgresEndpoint pg, RedisEndpoint redis, KafkaEndpoint kafka) {
    Map<String, String> env = new LinkedHashMap<>();
    env.put(InfraSettings.POSTGRES_URL, pg.url());
    env.put(InfraSettings.POSTGRES_USER, pg.username());
    env.put(InfraSettings.POSTGRES_PASSWORD, pg.password());
    env.put(InfraSettings.REDIS_URL, redis.url());
    env.put(InfraSettings.KAFKA_BOOTSTRAP_SERVERS, kafka.bootstrapServers());
    return env;
  }

  /** One line per service: where it is and where it came from. */
  public List<String> describe() {
    return List.of(
        "PostgreSQL  " + postgres().jdbcUrl() + "  (" + postgres.origin() + ")",
        "Redis       " + redis().url() + "  (" + redis.origin() + ")",
        "Kafka       " + kafka().bootstrapServers() + "  (" + kafka.origin() + ")");
  }

  @Override
  public void close() {
    closeAll(List.of(kafka, redis, postgres), null);
  }

  private static void closeAll(List<? extends AutoCloseable> resources, Throwable primary) {
    RuntimeException failure = null;
    for (AutoCloseable resource : resources) {
      try {
        resource.close();
      } catch (Exception e) {
        if (primary != null) {
          primary.addSuppressed(e);
        } else if (failure == null) {
          failure = new IllegalStateException("could not stop all infrastructure", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
