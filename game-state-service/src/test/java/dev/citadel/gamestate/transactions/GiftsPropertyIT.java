package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.StoredEvent;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The property the two-phase commit exists for, on two real game-state processes sharing one
 * PostgreSQL: random concurrent gifts among 100 players spread over both instances, for 30 s
 * ({@code -Dtx.property.seconds}). Afterwards the total gold is unchanged, every player's state
 * equals the replay of its events, and every gift reported committed is in both players' events.
 */
@CitadelInfra
class GiftsPropertyIT {
  static final int PLAYERS = 100;
  static final long START_GOLD = 1_000;
  static final int SECONDS = Integer.getInteger("tx.property.seconds", 30);
  static TwoInstances cluster;
  static List<String> urls;
  static PostgresEndpoint db;

  @BeforeAll
  static void start() throws Exception {
    // No snapshots, so no retention: the journal keeps every event for the replay check.
    cluster =
        new TwoInstances(
            "game_state_gifts", Map.of("CITADEL_GAMESTATE_SNAPSHOTEVERY", "100000000"));
    urls = cluster.urls;
    db = cluster.db;
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  record Gift(String giftId, String from, String to, long gold) {}

  static WebClient client(String url) {
    return TwoInstances.client(url);
  }

  static String owner(String player) {
    return cluster.owner(player);
  }

  @Test
  void random_concurrent_gifts_conserve_gold_and_every_commit_is_on_both_sides() {
    List<String> players = new ArrayList<>();
    for (int i = 0; i < PLAYERS; i++) {
      players.add("giver-" + i + "-" + Long.toHexString(new Random().nextLong() & 0xffffff));
    }
    assertThat(players.stream().map(GiftsPropertyIT::owner).distinct()).hasSize(2);
    cluster.register(players);
    Flux.fromIterable(players)
        .flatMap(p -> cluster.grant(p, "start-" + p, Map.of("gold", START_GOLD)), 16)
        .blockLast(Duration.ofSeconds(60));

    List<Gift> committed = new java.util.concurrent.CopyOnWriteArrayList<>();
    Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    long end = System.nanoTime() + Duration.ofSeconds(SECONDS).toNanos();
    Flux.range(0, 8) // eight clients, each sending gifts one after another until time is up
        .flatMap(
            c ->
                Mono.defer(() -> randomGift(players))
                    .doOnNext(
                        r -> {
                          statuses
                              .computeIfAbsent(r.status(), k -> new AtomicInteger())
                              .incrementAndGet();
                          if (r.gift() != null) {
                            committed.add(r.gift());
                          }
                        })
                    .repeat(() -> System.nanoTime() < end),
            8)
        .blockLast(Duration.ofSeconds(SECONDS + 120));
    System.out.println("[gifts] statuses " + statuses + ", committed " + committed.size());

    assertThat(committed).isNotEmpty();
    assertThat(statuses.keySet()).as("only commits and clear refusals").containsOnly(200, 409);

    // Total gold unchanged, read from each player's owner.
    Map<String, Map<String, Object>> views = new HashMap<>();
    for (String p : players) {
      views.put(p, view(p));
    }
    long total = views.values().stream().mapToLong(v -> ((Number) v.get("gold")).longValue()).sum();
    assertThat(total).isEqualTo(PLAYERS * START_GOLD);

    // Every player's state is the replay of its events; every commit is on both sides.
    PostgresEventStore journal =
        new PostgresEventStore(
            Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), 4),
            EventStoreOptions.defaults());
    PlayerAggregate type = new PlayerAggregate();
    Map<String, Map<String, Integer>> giftsSeen = new HashMap<>();
    for (String p : players) {
      List<StoredEvent> events = journal.readStream(p).collectList().block();
      PlayerState state = type.initial(p);
      Map<String, Integer> seen = new HashMap<>();
      for (StoredEvent e : events) {
        PlayerEvent event = type.decode(e.type(), e.payload());
        state = type.evolve(state, event);
        String reason = null;
        if (event instanceof PlayerEvent.GoldSpent s) {
          reason = "-" + s.reason();
        } else if (event instanceof PlayerEvent.GoldEarned g) {
          reason = "+" + g.reason();
        }
        if (reason != null) {
          seen.merge(reason, 1, Integer::sum);
        }
      }
      giftsSeen.put(p, seen);
      assertThat(state.gold())
          .as("gold of %s = replay", p)
          .isEqualTo(((Number) views.get(p).get("gold")).longValue());
      assertThat(events).hasSize(((Number) views.get(p).get("version")).intValue());
    }
    for (Gift g : committed) {
      assertThat(giftsSeen.get(g.from()).get("-gift " + g.giftId()))
          .as("spent once by %s", g.from())
          .isEqualTo(1);
      assertThat(giftsSeen.get(g.to()).get("+gift " + g.giftId()))
          .as("earned once by %s", g.to())
          .isEqualTo(1);
    }
  }

  record Outcome(int status, Gift gift) {}

  /** A gift between two random players, sent to a random instance (any may coordinate). */
  Mono<Outcome> randomGift(List<String> players) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    String from = players.get(r.nextInt(players.size()));
    String to = players.get(r.nextInt(players.size()));
    while (to.equals(from)) {
      to = players.get(r.nextInt(players.size()));
    }
    long gold = 1 + r.nextInt(300);
    String receiver = to;
    return client(urls.get(r.nextInt(urls.size())))
        .post()
        .uri("/api/game/players/{id}/gifts", from)
        .headers(h -> h.setBearerAuth(TwoInstances.token(from)))
        .bodyValue(Map.of("to", receiver, "gold", gold))
        .exchangeToMono(
            resp ->
                resp.bodyToMono(Map.class)
                    .defaultIfEmpty(Map.of())
                    .map(
                        body ->
                            new Outcome(
                                resp.statusCode().value(),
                                resp.statusCode().value() == HttpStatus.OK.value()
                                    ? new Gift((String) body.get("giftId"), from, receiver, gold)
                                    : null)));
  }

  @SuppressWarnings("unchecked")
  Map<String, Object> view(String player) {
    return client(owner(player))
        .get()
        .uri("/api/game/players/{id}", player)
        .headers(h -> h.setBearerAuth(TwoInstances.token(player)))
        .retrieve()
        .bodyToMono(Map.class)
        .block();
  }
}
