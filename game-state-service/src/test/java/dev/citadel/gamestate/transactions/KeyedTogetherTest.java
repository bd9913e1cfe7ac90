package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.eventstore.KeyRecord;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.HostOptions;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.testing.OpenedPools;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Several keyed transactions run as one ({@link Coordinator#executeAll}), on real PostgreSQL, with
 * two hosts ("instances") that each own half of the players: each keeps its own key, and one that
 * cannot run fails them all with nothing stored.
 */
@CitadelInfra
class KeyedTogetherTest {
  @RegisterExtension static final OpenedPools POOLS = new OpenedPools();

  static final Clock CLOCK = Clock.systemUTC();
  static PostgresEndpoint db;
  static PostgresEventStore store;
  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> hostA;
  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> hostB;
  static Coordinator coordinator;

  @BeforeAll
  static void start() {
    db = SharedInfra.postgresDatabase("gamestate_keyed_together");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    store = new PostgresEventStore(POOLS.open(db, 4), EventStoreOptions.defaults());
    hostA = host();
    hostB = host();
    coordinator = coordinatorOn(store);
  }

  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host() {
    return new AggregateHost<>(
        new PlayerAggregate(),
        new PostgresEventStore(POOLS.open(db, 4), EventStoreOptions.defaults()),
        SnapshotPolicy.DEFAULT,
        HostOptions.defaults(),
        List.of(),
        new SimpleMeterRegistry(),
        System::nanoTime);
  }

  static String player(AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host, long gold) {
    String id = (host == hostA ? "a-" : "b-") + UUID.randomUUID();
    Instant now = CLOCK.instant();
    host.handle(id, new PlayerCommand.CreatePlayer("nick", now), now).block();
    if (gold > 0) {
      host.handle(id, new PlayerCommand.EarnGold(gold, "start"), now).block();
    }
    return id;
  }

  /** Two givers with 100 gold, one on each instance, and two receivers with none. */
  record Pairs(String a1, String b1, String b2, String a2) {}

  static Pairs pairs() {
    return new Pairs(player(hostA, 100), player(hostB, 0), player(hostB, 100), player(hostA, 0));
  }

  static Coordinator.Keyed gift(String from, String to, long gold, String key) {
    return new Coordinator.Keyed(
        List.of(
            new Step(from, "spend-gold", Map.of("amount", gold, "reason", "gift")),
            new Step(to, "earn-gold", Map.of("amount", gold, "reason", "gift"))),
        IdempotencyKey.of(key, from, to, gold));
  }

  static long gold(String id) {
    var host = id.startsWith("a-") ? hostA : hostB;
    return host.get(id).block().state().gold();
  }

  @Test
  void each_transaction_is_stored_under_its_own_key_and_stays_a_repeat_of_itself() {
    Pairs p = pairs();
    String a1 = p.a1(), b1 = p.b1(), b2 = p.b2(), a2 = p.a2();
    var first = gift(a1, b1, 30, "gift-" + UUID.randomUUID());
    var second = gift(b2, a2, 40, "gift-" + UUID.randomUUID());

    assertThat(coordinator.executeAll(List.of(first, second)).block()).isNotBlank();

    assertThat(List.of(gold(a1), gold(b1), gold(b2), gold(a2))).containsExactly(70L, 30L, 60L, 40L);
    for (var tx : List.of(first, second)) {
      for (Step s : tx.steps()) {
        KeyRecord found = store.findKey(s.playerId(), tx.key().value()).block();
        assertThat(found).as(s.playerId() + " holds its own transaction's key").isNotNull();
        assertThat(found.fingerprint()).isEqualTo(tx.key().fingerprint());
      }
    }
    // Sent again on its own (a game server's retry), each is a repeat: nothing moves twice.
    assertThat(coordinator.execute(second.steps(), second.key()).block().repeated()).isTrue();
    assertThat(List.of(gold(b2), gold(a2))).containsExactly(60L, 40L);
  }

  @Test
  void one_that_cannot_run_fails_them_all_and_nothing_is_stored() {
    Pairs p = pairs();
    String a1 = p.a1(), b1 = p.b1(), b2 = p.b2(), a2 = p.a2();
    var stored = gift(a1, b1, 30, "gift-" + UUID.randomUUID());
    coordinator.execute(stored.steps(), stored.key()).block();
    var fresh = gift(b2, a2, 40, "gift-" + UUID.randomUUID());

    // The first again beside a new one: its key is met at the append, and the whole is refused.
    assertThatThrownBy(() -> coordinator.executeAll(List.of(stored, fresh)).block())
        .isInstanceOf(Refused.class);
    assertThat(List.of(gold(a1), gold(b1), gold(b2), gold(a2))).containsExactly(70L, 30L, 100L, 0L);

    // A gift the giver cannot pay is refused by its player: the other is not stored either, and
    // every player is released at once (the next transaction finds none held).
    String a3 = player(hostA, 5);
    var unpaid = gift(a3, b1, 1_000, "gift-" + UUID.randomUUID());
    assertThatThrownBy(() -> coordinator.executeAll(List.of(fresh, unpaid)).block())
        .isInstanceOf(Refused.class);
    assertThat(List.of(gold(b2), gold(a2), gold(a3), gold(b1))).containsExactly(100L, 0L, 5L, 30L);
    assertThat(coordinator.executeAll(List.of(fresh)).block()).isNotBlank();
    assertThat(List.of(gold(b2), gold(a2))).containsExactly(60L, 40L);
  }

  /** A coordinator storing through {@code on} (the store, or one that injects a fault). */
  static Coordinator coordinatorOn(dev.citadel.eventstore.EventStore on) {
    Participant a =
        new LocalParticipant(hostA, new PlayerAggregate(), CLOCK, Duration.ofSeconds(2));
    Participant b =
        new LocalParticipant(hostB, new PlayerAggregate(), CLOCK, Duration.ofSeconds(2));
    return new Coordinator(
        on,
        id -> id.startsWith("a-") ? a : b,
        new Coordinator.Settings(Duration.ofSeconds(2), Duration.ofSeconds(2)),
        CLOCK,
        new SimpleMeterRegistry());
  }

  @Test
  void stored_but_its_reply_lost_they_are_looked_up_and_committed_once() {
    Pairs p = pairs();
    String a1 = p.a1(), b1 = p.b1(), b2 = p.b2(), a2 = p.a2();
    var first = gift(a1, b1, 30, "gift-" + UUID.randomUUID());
    var second = gift(b2, a2, 40, "gift-" + UUID.randomUUID());
    java.util.concurrent.atomic.AtomicInteger waits =
        new java.util.concurrent.atomic.AtomicInteger();
    var replyLost =
        coordinatorOn(
            new dev.citadel.gamestate.testing.LandsThenFails(store) {
              @Override
              public reactor.core.publisher.Mono<KeyRecord> findKeyAfterFailure(
                  String aggregateId, String key) {
                waits.incrementAndGet();
                return super.findKeyAfterFailure(aggregateId, key);
              }
            });
    assertThat(replyLost.executeAll(List.of(first, second)).block()).isNotBlank();
    assertThat(List.of(gold(a1), gold(b1), gold(b2), gold(a2))).containsExactly(70L, 30L, 60L, 40L);
    // The lookup in doubt waits for the appends still running, once for the whole batch.
    assertThat(waits.get()).isEqualTo(1);
  }

  @Test
  void in_doubt_with_a_repeat_first_they_are_refused_and_nothing_is_taken_as_stored() {
    // The first stream's key is found, but written by the earlier run: this append met it and
    // stored nothing. Taken as stored, the other gift would be answered as given, and lost.
    Pairs p = pairs();
    String a1 = p.a1(), b1 = p.b1(), b2 = p.b2(), a2 = p.a2();
    var stored = gift(a1, b1, 30, "gift-" + UUID.randomUUID());
    coordinator.execute(stored.steps(), stored.key()).block();
    var fresh = gift(b2, a2, 40, "gift-" + UUID.randomUUID());
    var lost = coordinatorOn(new dev.citadel.gamestate.testing.FailingStore(store));
    assertThatThrownBy(() -> lost.executeAll(List.of(stored, fresh)).block())
        .isInstanceOf(Refused.class)
        .hasMessageContaining("repeat");
    assertThat(List.of(gold(a1), gold(b1), gold(b2), gold(a2))).containsExactly(70L, 30L, 100L, 0L);
  }

  @Test
  void in_doubt_with_only_the_first_stored_by_another_copy_nothing_is_taken_as_stored() {
    // Another copy of the first gift, prepared at the same versions elsewhere, is stored there;
    // this append conflicts, and its reply is lost. The first key is found where this append
    // would have written it, but the second is not: nothing of this append was stored, and the
    // second gift must not be answered as given.
    Pairs p = pairs();
    String a1 = p.a1(), b1 = p.b1(), b2 = p.b2(), a2 = p.a2();
    var first = gift(a1, b1, 30, "gift-" + UUID.randomUUID());
    var second = gift(b2, a2, 40, "gift-" + UUID.randomUUID());
    var otherCopyFirst =
        coordinatorOn(
            new dev.citadel.gamestate.testing.FailingStore(store) {
              @Override
              public reactor.core.publisher.Mono<List<dev.citadel.eventstore.Appended>>
                  appendAtomically(List<dev.citadel.eventstore.AppendRequest> requests) {
                Set<String> firstPlayers = Set.of(a1, b1);
                return inner
                    .appendAtomically(
                        requests.stream()
                            .filter(r -> firstPlayers.contains(r.aggregateId()))
                            .toList())
                    .then(super.appendAtomically(requests));
              }
            });
    assertThatThrownBy(() -> otherCopyFirst.executeAll(List.of(first, second)).block())
        .isInstanceOf(Refused.class);
    // The first moved once (by the other copy), the second not at all.
    assertThat(List.of(gold(a1), gold(b1), gold(b2), gold(a2))).containsExactly(70L, 30L, 100L, 0L);
    assertThat(store.findKey(b2, second.key().value()).block()).isNull();
    // Sent again on its own, the second is given once; the first is a repeat.
    assertThat(coordinator.execute(second.steps(), second.key()).block().repeated()).isFalse();
    assertThat(coordinator.execute(first.steps(), first.key()).block().repeated()).isTrue();
    assertThat(List.of(gold(a1), gold(b1), gold(b2), gold(a2))).containsExactly(70L, 30L, 60L, 40L);
  }

  @Test
  void a_player_in_two_of_them_is_refused_before_anything_runs() {
    String a1 = player(hostA, 100);
    String b1 = player(hostB, 0);
    String b2 = player(hostB, 100);
    var one = gift(a1, b1, 10, "gift-" + UUID.randomUUID());
    var two = gift(b2, a1, 10, "gift-" + UUID.randomUUID());
    assertThatThrownBy(() -> coordinator.executeAll(List.of(one, two)).block())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(a1);
    assertThat(gold(a1)).isEqualTo(100);
  }
}
