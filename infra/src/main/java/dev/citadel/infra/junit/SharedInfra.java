package dev.citadel.infra.junit;

import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Running;
import dev.citadel.infra.kafka.KafkaCluster;
import dev.citadel.infra.kafka.KafkaEndpoint;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.infra.postgres.PostgresServer;
import dev.citadel.infra.redis.RedisEndpoint;
import dev.citadel.infra.redis.RedisServer;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * One PostgreSQL, one Redis and one single-broker Kafka per JVM, each started on first use and on a
 * free port (or external, see {@link InfraSettings}). {@link InfraExtension} stops them when the
 * test run ends; a shutdown hook does it otherwise.
 *
 * <p>Static so that Spring's {@code @DynamicPropertySource} methods can reach it.
 */
public final class SharedInfra {
  private static final Deque<Running<?>> STARTED = new ArrayDeque<>();
  private static PostgresServer postgres;
  private static RedisServer redis;
  private static KafkaCluster kafka;
  private static boolean hooked;

  private SharedInfra() {}

  public static synchronized PostgresEndpoint postgres() {
    if (postgres == null) {
      postgres = track(PostgresServer.start(InfraSettings.fromEnvironment(), 0));
    }
    return postgres.endpoint();
  }

  /** A fresh database on the shared server, so test classes do not see each other's rows. */
  public static PostgresEndpoint postgresDatabase(String name) {
    return PostgresServer.createDatabase(postgres(), name);
  }

  public static synchronized RedisEndpoint redis() {
    if (redis == null) {
      redis = track(RedisServer.start(InfraSettings.fromEnvironment(), 0));
    }
    return redis.endpoint();
  }

  public static synchronized KafkaEndpoint kafka() {
    if (kafka == null) {
      kafka = track(KafkaCluster.start(InfraSettings.fromEnvironment(), 1));
    }
    return kafka.endpoint();
  }

  /** Stops everything started so far, newest first. */
  public static synchronized void stopAll() {
    while (!STARTED.isEmpty()) {
      STARTED.pop().close();
    }
    postgres = null;
    redis = null;
    kafka = null;
  }

  private static <T extends Running<?>> T track(T running) {
    STARTED.push(running);
    if (!hooked) {
      hooked = true;
      Runtime.getRuntime().addShutdownHook(new Thread(SharedInfra::stopAll, "citadel-infra-stop"));
    }
    return running;
  }
}
