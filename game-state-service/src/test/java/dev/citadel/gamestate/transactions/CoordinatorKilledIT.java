package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The coordinator of gifts is killed (SIGKILL) while gifts run: some are prepared, some stored and
 * not yet committed, some answered. Its receivers live on the other instance, held by the dead
 * coordinator's prepares. Every gift is then sent again with its Idempotency-Key until answered:
 * each is given exactly once, gold is conserved, and nobody stays held.
 */
@CitadelInfra
class CoordinatorKilledIT {
  static final int PAIRS = 8;
  static final int GIFTS_PER_PAIR = 15;
  static final long START = 1_000;
  static TwoInstances cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = TwoInstances.shared();
  }

  static String ownedBy(int i) {
    while (true) {
      String p = "ck-" + UUID.randomUUID();
      if (cluster.owner(p).equals(cluster.urls.get(i))) {
        return p;
      }
    }
  }

  record Gift(String from, String to, String key) {}

  /** The status of one attempt; -1 if the connection failed (the outcome is unknown). */
  static Mono<Answer> send(Gift g) {
    return TwoInstances.client(cluster.owner(g.from()))
        .post()
        .uri("/api/game/players/{id}/gifts", g.from())
        .headers(
            h -> {
              h.setBearerAuth(TwoInstances.token(g.from()));
              h.set("Idempotency-Key", g.key());
            })
        .bodyValue(Map.of("to", g.to(), "gold", 1))
        .exchangeToMono(
            r ->
                r.bodyToMono(Map.class)
                    .defaultIfEmpty(Map.of())
                    .map(
                        body ->
                            new Answer(
                                r.statusCode().value(), Boolean.TRUE.equals(body.get("repeated")))))
        .timeout(Duration.ofSeconds(20))
        .onErrorResume(e -> Mono.just(new Answer(-1, false)));
  }

  record Answer(int status, boolean repeated) {}

  @Test
  void a_coordinator_killed_mid_transaction_leaves_every_gift_given_once_and_nobody_held()
      throws Exception {
    List<String> givers = new ArrayList<>();
    List<String> takers = new ArrayList<>();
    for (int i = 0; i < PAIRS; i++) {
      givers.add(ownedBy(1)); // coordinated by instance 1, which is killed
      takers.add(ownedBy(0)); // held by instance 1's prepares, on the instance that stays up
    }
    List<String> everyone = new ArrayList<>(givers);
    everyone.addAll(takers);
    cluster.register(everyone);
    Flux.fromIterable(everyone)
        .flatMap(p -> cluster.grant(p, "start-" + p, Map.of("gold", START)))
        .blockLast(Duration.ofSeconds(60));

    List<Gift> gifts = new ArrayList<>();
    for (int i = 0; i < PAIRS; i++) {
      for (int n = 0; n < GIFTS_PER_PAIR; n++) {
        gifts.add(new Gift(givers.get(i), takers.get(i), "ck-gift-" + i + "-" + n));
      }
    }
    Map<Gift, Answer> first = new ConcurrentHashMap<>();
    AtomicInteger answered = new AtomicInteger();
    Disposable running =
        Flux.range(0, PAIRS)
            .flatMap(
                i ->
                    Flux.fromIterable(gifts.subList(i * GIFTS_PER_PAIR, (i + 1) * GIFTS_PER_PAIR))
                        .concatMap(
                            g ->
                                send(g)
                                    .doOnNext(
                                        a -> {
                                          first.put(g, a);
                                          if (a.status() == 200) {
                                            answered.incrementAndGet();
                                          }
                                        })),
                PAIRS)
            .subscribe();
    await().atMost(Duration.ofSeconds(120)).until(() -> answered.get() >= PAIRS * 3);
    cluster.processes.get(1).kill();
    await().atMost(Duration.ofSeconds(60)).until(() -> first.size() == gifts.size());
    running.dispose();
    cluster.processes.set(1, cluster.processes.get(1).restart());
    cluster.processes.get(1).awaitHealthy(Duration.ofSeconds(120));

    // Each gift whose answer was not a success is sent again with its key until it is answered.
    int lostReplies = 0;
    for (Gift g : gifts) {
      if (first.get(g).status() == 200) {
        continue;
      }
      Answer[] last = new Answer[1];
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(100))
          .until(() -> (last[0] = send(g).block()).status() == 200);
      if (last[0].repeated()) {
        lostReplies++; // stored before the kill; the client never heard
      }
    }
    System.out.printf(
        "coordinator killed after %d answered gifts; %d gifts had no answer, %d of them had been"
            + " stored%n",
        answered.get(),
        gifts.stream().filter(g -> first.get(g).status() != 200).count(),
        lostReplies);

    for (int i = 0; i < PAIRS; i++) {
      assertThat(OwnerDownIT.gold(cluster.owner(givers.get(i)), givers.get(i)))
          .isEqualTo(START - GIFTS_PER_PAIR);
      assertThat(OwnerDownIT.gold(cluster.owner(takers.get(i)), takers.get(i)))
          .isEqualTo(START + GIFTS_PER_PAIR);
    }
    // Nobody is held: every player takes a command at once.
    for (int i = 0; i < PAIRS; i++) {
      assertThat(send(new Gift(takers.get(i), givers.get(i), "ck-back-" + i)).block().status())
          .isEqualTo(200);
    }
  }
}
