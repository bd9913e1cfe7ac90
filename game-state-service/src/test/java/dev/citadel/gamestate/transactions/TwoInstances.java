package dev.citadel.gamestate.transactions;

import dev.citadel.affinity.Rendezvous;
import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceLaunch;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.infra.platform.ServiceSpec;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import dev.citadel.protocol.member.v1.AccountRegistered;
import dev.citadel.web.testing.TestIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Two game-state processes (the packaged -exec jar) on one database, each knowing the other, with a
 * real member-service as their identity provider ({@link TestIdentity}).
 */
final class TwoInstances implements AutoCloseable {
  /** The accounts topic the instances create players from (their default). */
  static final String ACCOUNTS = "member.events";

  final List<ServiceProcess> processes = new ArrayList<>();
  final List<String> urls = new ArrayList<>();
  final PostgresEndpoint db;

  TwoInstances(String database, Map<String, String> extraEnv) throws Exception {
    db = SharedInfra.postgresDatabase(database);
    int[] ports = {FreePorts.next(), FreePorts.next()};
    for (int port : ports) {
      urls.add("http://127.0.0.1:" + port);
    }
    Path root = Path.of(System.getProperty("user.dir")).getParent();
    Path jar =
        ServiceLaunch.jarOf(root, "game-state-service")
            .orElseThrow(() -> new IllegalStateException("game-state-service is not packaged"));
    for (int i = 0; i < 2; i++) {
      Map<String, String> env =
          new HashMap<>(
              Infrastructure.environment(
                  SharedInfra.postgres(), SharedInfra.redis(), SharedInfra.kafka()));
      env.put(InfraSettings.POSTGRES_URL, db.url());
      env.put("CITADEL_GAME_STATE_URLS", String.join(",", urls));
      env.put("CITADEL_SELF_URL", urls.get(i));
      env.putAll(TestIdentity.shared().serviceEnv("game-state"));
      env.putAll(extraEnv);
      processes.add(
          ServiceProcess.start(
              new ServiceSpec(database + "-" + i, "game-state-service", ports[i], database),
              jar,
              env,
              Files.createDirectories(Path.of("target", "service-logs"))));
    }
    for (ServiceProcess p : processes) {
      p.awaitHealthy(Duration.ofSeconds(120));
    }
  }

  String owner(String player) {
    return Rendezvous.pick(player, urls, Function.identity()).orElseThrow();
  }

  private static final Map<String, WebClient> CLIENTS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** One client per instance, so connections are pooled and reused. */
  static WebClient client(String url) {
    return CLIENTS.computeIfAbsent(url, u -> WebClient.builder().baseUrl(u).build());
  }

  private static final Map<String, String> TOKENS = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * The player's own token, minted once per player (valid for an hour) and reused, as a real client
   * does: signing one per request would make benchmarks measure the test's RSA signing.
   */
  static String token(String player) {
    return TOKENS.computeIfAbsent(player, p -> TestIdentity.shared().player(p));
  }

  /**
   * Creates players the way the platform does: an {@code AccountRegistered} on the accounts topic
   * for each, then waits until each one's owner answers for it.
   */
  void register(List<String> players) {
    register(players, Duration.ofSeconds(90));
  }

  /** The same, waiting up to {@code within} for the last player to be answered for. */
  void register(List<String> players, Duration within) {
    KafkaSettings settings =
        KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "test-accounts");
    try (var publisher = new ReactorKafkaPublisher(settings)) {
      publisher
          .publishAll(
              Flux.fromIterable(players)
                  .map(
                      p ->
                          new OutgoingMessage(
                              ACCOUNTS,
                              p,
                              EventEnvelope.newBuilder()
                                  .setAggregateType("account")
                                  .setAggregateId(p)
                                  .setSeq(1)
                                  .setEventType(AccountRegistered.getDescriptor().getFullName())
                                  .setPayload(
                                      AccountRegistered.newBuilder()
                                          .setPlayerId(p)
                                          .setNickname("n" + Integer.toHexString(p.hashCode()))
                                          .setRegisteredAtEpochMs(1_767_225_600_000L)
                                          .build()
                                          .toByteString())
                                  .build()
                                  .toByteArray())))
          .blockLast(Duration.ofSeconds(60));
    }
    Flux.fromIterable(players)
        .flatMap(
            p ->
                client(owner(p))
                    .get()
                    .uri("/api/game/players/{id}", p)
                    .headers(h -> h.setBearerAuth(token(p)))
                    .retrieve()
                    .toBodilessEntity()
                    .retryWhen(Retry.fixedDelay(within.toMillis() / 100, Duration.ofMillis(100))),
            16)
        .blockLast(within);
  }

  /** A game server's grant (gold, items ...), as JSON fields after the reward id. */
  Mono<Void> grant(String player, String rewardId, Map<String, Object> reward) {
    Map<String, Object> body = new HashMap<>(reward);
    body.put("rewardId", rewardId);
    return client(owner(player))
        .post()
        .uri("/internal/players/{id}/grants", player)
        .headers(
            h ->
                h.setBearerAuth(
                    TestIdentity.shared().service("game-server", "game-state", "game.grant")))
        .bodyValue(body)
        .retrieve()
        .toBodilessEntity()
        .then();
  }

  private static TwoInstances shared;

  /**
   * One pair of instances for the fault tests that leave both instances running when they finish (a
   * killed instance is restarted): started once per test JVM, stopped at its exit.
   */
  static synchronized TwoInstances shared() throws Exception {
    if (shared == null) {
      shared = new TwoInstances("game_state_shared_pair", Map.of());
      Runtime.getRuntime().addShutdownHook(new Thread(shared::close, "shared-pair-stop"));
    }
    return shared;
  }

  @Override
  public void close() {
    processes.forEach(p -> p.stop(Duration.ofSeconds(20)));
  }
}
