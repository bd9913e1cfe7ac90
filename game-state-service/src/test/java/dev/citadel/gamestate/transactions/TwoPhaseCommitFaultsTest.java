package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.Appended;
import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.aggregate.AfterCommit;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.HostOptions;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.testing.FailingStore;
import dev.citadel.gamestate.testing.LandsThenFails;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Two-phase commit faults, on real PostgreSQL, with two hosts ("instances") that each own one of
 * the two players. Participants are wrapped to lose messages or go silent.
 *
 * <p>Why one class of this size: every fault here runs on the same two instances, their pools and
 * the coordinator's store; split by fault, each class would start and wire them again.
 */
@CitadelInfra
class TwoPhaseCommitFaultsTest {
  static final Duration HOLD = Duration.ofMillis(1500);
  static final Clock CLOCK = Clock.systemUTC();
  static PostgresEndpoint db;
  static PostgresEventStore coordinatorStore;
  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> hostA;
  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> hostB;
  static LocalParticipant a;
  static LocalParticipant b;

  /** Two instances, each with its own pool: a owns the "a-..." players, b the rest. */
  @BeforeAll
  static void start() {
    db = SharedInfra.postgresDatabase("gamestate_tx_test");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    coordinatorStore = store();
    hostA = host();
    hostB = host();
    a = new LocalParticipant(hostA, new PlayerAggregate(), CLOCK, HOLD);
    b = new LocalParticipant(hostB, new PlayerAggregate(), CLOCK, HOLD);
  }

  static PostgresEventStore store() {
    return new PostgresEventStore(
        Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), 4),
        EventStoreOptions.defaults());
  }

  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host() {
    return hostOn(store(), List.of());
  }

  /** An instance on {@code store} (the shared one, or one that injects a fault into it). */
  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> hostOn(
      EventStore store, List<AfterCommit<PlayerState, PlayerEvent>> work) {
    return new AggregateHost<>(
        new PlayerAggregate(),
        store,
        SnapshotPolicy.DEFAULT,
        HostOptions.defaults(),
        work,
        new SimpleMeterRegistry(),
        System::nanoTime);
  }

  Coordinator coordinator(EventStore store, Participant forA, Participant forB) {
    Function<String, Participant> owners = id -> id.startsWith("a-") ? forA : forB;
    return new Coordinator(
        store,
        owners,
        new Coordinator.Settings(Duration.ofMillis(500), Duration.ofMillis(500)),
        CLOCK,
        new SimpleMeterRegistry());
  }

  String player(
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host, String prefix, long gold) {
    String id = prefix + UUID.randomUUID();
    Instant now = CLOCK.instant();
    host.handle(
            id, new PlayerCommand.CreatePlayer("n" + Integer.toHexString(id.hashCode()), now), now)
        .block();
    if (gold > 0) {
      host.handle(id, new PlayerCommand.EarnGold(gold, "start"), now).block();
    }
    return id;
  }

  static List<Step> gift(String from, String to, long gold) {
    return List.of(
        new Step(from, "spend-gold", Map.of("amount", gold, "reason", "gift")),
        new Step(to, "earn-gold", Map.of("amount", gold, "reason", "gift")));
  }

  long gold(AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host, String id) {
    return host.get(id).block().state().gold();
  }

  @Test
  void a_committed_gift_moves_gold_between_instances() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    String tx = coordinator(coordinatorStore, a, b).execute(gift(from, to, 30)).block();
    assertThat(tx).isNotBlank();
    assertThat(gold(hostA, from)).isEqualTo(70);
    assertThat(gold(hostB, to)).isEqualTo(30);
  }

  @Test
  void a_participant_silent_after_prepare_aborts_and_the_other_is_released_at_once() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    // b prepares (and holds its player) but its answer never arrives.
    Participant silent =
        new Wrapped(b) {
          @Override
          public Mono<Vote> prepare(String tx, String p, String c, Map<String, Object> args) {
            return b.prepare(tx, p, c, args).then(Mono.never());
          }
        };
    var refused = coordinator(coordinatorStore, a, silent).execute(gift(from, to, 30));
    assertRefused(refused, Refused.Reason.UNAVAILABLE);

    // a was told to abort: its player takes commands again right away, nothing was applied.
    Instant now = CLOCK.instant();
    hostA.handle(from, new PlayerCommand.EarnGold(1, "after"), now).block();
    assertThat(gold(hostA, from)).isEqualTo(101);
    // b's hold lapses after its timeout; then it works again, and nothing was applied there.
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(
            () ->
                hostB.handle(to, new PlayerCommand.EarnGold(1, "after"), CLOCK.instant()).block()
                    != null);
    assertThat(gold(hostB, to)).isEqualTo(1);
  }

  /**
   * A caller that goes away mid-prepare (a client closing its connection): the transaction runs to
   * its end all the same. Cancelled with the request, it sent neither commit nor abort, and both
   * players stayed held until their holds lapsed.
   */
  @Test
  void a_caller_that_gives_up_mid_prepare_leaves_the_transaction_to_finish() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    reactor.core.publisher.Sinks.Empty<Void> gate = reactor.core.publisher.Sinks.empty();
    java.util.concurrent.atomic.AtomicBoolean preparing =
        new java.util.concurrent.atomic.AtomicBoolean();
    Participant slow =
        new Wrapped(b) {
          @Override
          public Mono<Vote> prepare(String tx, String p, String c, Map<String, Object> args) {
            return b.prepare(tx, p, c, args)
                .doOnSubscribe(x -> preparing.set(true))
                .delayUntil(v -> gate.asMono());
          }
        };
    reactor.core.Disposable caller =
        coordinator(coordinatorStore, a, slow).execute(gift(from, to, 30)).subscribe();
    await().atMost(Duration.ofSeconds(10)).untilTrue(preparing);
    caller.dispose(); // the client went away
    gate.tryEmitEmpty();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> gold(hostA, from) == 70 && gold(hostB, to) == 30);
    // Committed and released: both take commands at once, not after their holds lapse.
    Instant now = CLOCK.instant();
    hostA.handle(from, new PlayerCommand.EarnGold(1, "after"), now).block();
    hostB.handle(to, new PlayerCommand.EarnGold(1, "after"), now).block();
    assertThat(gold(hostA, from)).isEqualTo(71);
    assertThat(gold(hostB, to)).isEqualTo(31);
  }

  @Test
  void the_database_failing_at_the_store_aborts_everywhere() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    EventStore failing = new FailingStore(coordinatorStore);
    assertRefused(
        coordinator(failing, a, b).execute(gift(from, to, 30)), Refused.Reason.UNAVAILABLE);
    // Both released at once (aborted, not lapsed), nothing stored.
    hostA.handle(from, new PlayerCommand.EarnGold(1, "after"), CLOCK.instant()).block();
    hostB.handle(to, new PlayerCommand.EarnGold(1, "after"), CLOCK.instant()).block();
    assertThat(gold(hostA, from)).isEqualTo(101);
    assertThat(gold(hostB, to)).isEqualTo(1);
  }

  /**
   * A store refused before any statement was sent (no connection, a full queue) is certain: the
   * transaction is refused at once, its key never looked up (the lookup would wait for a connection
   * that cannot be had either), and both players released.
   */
  @Test
  void a_store_refused_before_it_was_sent_is_not_looked_up() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    java.util.concurrent.atomic.AtomicInteger lookups =
        new java.util.concurrent.atomic.AtomicInteger();
    EventStore refused =
        new FailingStore(coordinatorStore) {
          @Override
          public Mono<List<Appended>> appendAtomically(List<AppendRequest> requests) {
            return Mono.error(new dev.citadel.eventstore.StoreBusy(1));
          }

          @Override
          public Mono<dev.citadel.eventstore.KeyRecord> findKey(String aggregateId, String key) {
            lookups.incrementAndGet();
            return super.findKey(aggregateId, key);
          }
        };
    assertRefused(
        coordinator(refused, a, b).execute(gift(from, to, 30)), Refused.Reason.UNAVAILABLE);
    hostA.handle(from, new PlayerCommand.EarnGold(1, "after"), CLOCK.instant()).block();
    hostB.handle(to, new PlayerCommand.EarnGold(1, "after"), CLOCK.instant()).block();
    assertThat(gold(hostA, from)).isEqualTo(101);
    assertThat(gold(hostB, to)).isEqualTo(1);
    assertThat(lookups.get()).as("key lookups (a transaction without a client key)").isZero();
  }

  /**
   * In doubt, and the lookup fails too: the caller is told how to find out, by the key it sent, or
   * without one by reading the players (resending a keyless request may give twice).
   */
  @Test
  void an_outcome_not_known_tells_the_caller_how_to_find_out_with_or_without_its_key() {
    EventStore blind =
        new FailingStore(coordinatorStore) {
          @Override
          public Mono<dev.citadel.eventstore.KeyRecord> findKey(String aggregateId, String key) {
            return Mono.error(new IllegalStateException("connection reset (injected)"));
          }
        };
    Coordinator coordinator = coordinator(blind, a, b);

    Refused keyless =
        refusal(coordinator.execute(gift(player(hostA, "a-", 100), player(hostB, "b-", 0), 30)));
    Refused keyed =
        refusal(
            coordinator
                .execute(
                    gift(player(hostA, "a-", 100), player(hostB, "b-", 0), 30),
                    dev.citadel.eventstore.IdempotencyKey.of("gift-" + UUID.randomUUID(), "f"))
                .map(Coordinator.Outcome::transactionId));

    assertThat(keyless.reason()).isEqualTo(Refused.Reason.UNAVAILABLE);
    assertThat(keyless.getMessage())
        .contains("read the players' state")
        .doesNotContain("send the same request again");
    assertThat(keyed.reason()).isEqualTo(Refused.Reason.UNAVAILABLE);
    assertThat(keyed.getMessage())
        .contains("send the same request again, unchanged")
        .doesNotContain("read the players");
  }

  static Refused refusal(Mono<String> tx) {
    try {
      tx.block(Duration.ofSeconds(10));
      throw new AssertionError("expected the transaction to be refused");
    } catch (Refused r) {
      return r;
    }
  }

  @Test
  void a_commit_message_lost_after_the_store_still_ends_committed() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    Participant losesCommit = withoutCommits(b); // the message never reaches b
    coordinator(coordinatorStore, a, losesCommit).execute(gift(from, to, 30)).block();
    assertThat(gold(hostA, from)).isEqualTo(70);
    // b never heard of the commit: it is still held until the hold lapses (or a read catches it
    // up); then it has the stored gift and takes commands again.
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(
            () ->
                hostB.handle(to, new PlayerCommand.SpendGold(30, "use it"), CLOCK.instant()).block()
                    != null);
    assertThat(gold(hostB, to)).isZero();
  }

  /** An instance on the shared store whose commits run {@code work} after them. */
  AggregateHost<PlayerState, PlayerCommand, PlayerEvent> hooked(
      AfterCommit<PlayerState, PlayerEvent> work) {
    return hostOn(store(), List.of(work));
  }

  /** An instance on the shared store that records each commit's events, in order. */
  AggregateHost<PlayerState, PlayerCommand, PlayerEvent> notifying(
      List<List<PlayerEvent>> notified) {
    return hooked(
        (id, state, version, events) -> Mono.fromRunnable(() -> notified.add(List.copyOf(events))));
  }

  /** {@code p} as a participant whose commit messages never arrive. */
  static Participant withoutCommits(Participant p) {
    return new Wrapped(p) {
      @Override
      public Mono<Void> commit(String tx, String player) {
        return Mono.empty();
      }
    };
  }

  /**
   * The coordinator gives up on a commit after its timeout (a busy player, a slow journal read):
   * the participant's commit goes on all the same. Cancelled, it was skipped: the player stayed
   * held until the hold lapsed, and an idle player's notification and leaderboard update were lost.
   */
  @Test
  void a_local_commit_whose_caller_gives_up_is_carried_out() {
    List<List<PlayerEvent>> notified = new java.util.concurrent.CopyOnWriteArrayList<>();
    var hooked = notifying(notified);
    var c = new LocalParticipant(hooked, new PlayerAggregate(), CLOCK, Duration.ofSeconds(30));
    String from = player(hostA, "a-", 100);
    String to = player(hooked, "b-", 0);
    String tx =
        coordinator(coordinatorStore, a, withoutCommits(c)).execute(gift(from, to, 30)).block();
    notified.clear();

    c.commitAll(tx, List.of(to)).subscribe().dispose(); // the coordinator's timeout, at once
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> notified.equals(List.of(List.of(new PlayerEvent.GoldEarned(30, "gift")))));
  }

  @Test
  void a_read_that_comes_between_the_store_and_the_commit_runs_the_after_commit_work_once() {
    // The player's notifications and leaderboards follow its commit; a read (a rating asked for
    // when the player queues again) that catches the copy up first must not skip them.
    List<List<PlayerEvent>> notified = new java.util.concurrent.CopyOnWriteArrayList<>();
    var hooked = notifying(notified);
    var c = new LocalParticipant(hooked, new PlayerAggregate(), CLOCK, HOLD);
    String from = player(hostA, "a-", 100);
    String to = player(hooked, "b-", 0);
    notified.clear();
    Participant commitLate = withoutCommits(c); // not yet: the read below comes first
    String tx = coordinator(coordinatorStore, a, commitLate).execute(gift(from, to, 30)).block();

    assertThat(hooked.get(to).block().state().gold()).isEqualTo(30);
    assertThat(notified).containsExactly(List.of(new PlayerEvent.GoldEarned(30, "gift")));
    c.commit(tx, to).block(); // the late commit finds it done
    assertThat(notified).hasSize(1);

    // The next gift is stored and holds the player; the first gift's commit, sent once more, is
    // late for a transaction that is not the one holding the player: it commits the one that is.
    String second = coordinator(coordinatorStore, a, commitLate).execute(gift(from, to, 5)).block();
    c.commit(tx, to).block();
    assertThat(notified)
        .containsExactly(
            List.of(new PlayerEvent.GoldEarned(30, "gift")),
            List.of(new PlayerEvent.GoldEarned(5, "gift")));
    c.commit(second, to).block();
    assertThat(notified).hasSize(2);
    assertThat(hooked.get(to).block().state().gold()).isEqualTo(35);
  }

  /**
   * The commit's read of the journal fails (a database blip): the player stays held, and the read
   * after it applies the stored gift with its after-commit work, once. (The hold used to be
   * released on the failure, and the read then replayed the gift without its notification.)
   */
  @Test
  void a_commit_whose_journal_read_fails_keeps_the_hold_and_the_next_read_runs_the_work_once() {
    java.util.concurrent.atomic.AtomicBoolean readsFail =
        new java.util.concurrent.atomic.AtomicBoolean();
    List<List<PlayerEvent>> notified = new java.util.concurrent.CopyOnWriteArrayList<>();
    var hooked =
        readsFailWhile(
            readsFail,
            (id, state, version, events) ->
                Mono.fromRunnable(() -> notified.add(List.copyOf(events))));
    // A long hold: nothing here may lapse it, whatever the machine's load.
    var c = new LocalParticipant(hooked, new PlayerAggregate(), CLOCK, Duration.ofSeconds(30));
    String from = player(hostA, "a-", 100);
    String to = player(hooked, "b-", 0);
    notified.clear();
    String tx =
        coordinator(coordinatorStore, a, withoutCommits(c)).execute(gift(from, to, 30)).block();

    readsFail.set(true);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.commit(tx, to).block())
        .hasMessageContaining("injected");
    readsFail.set(false);
    assertThat(notified).isEmpty();

    assertThat(hooked.get(to).block().state().gold()).isEqualTo(30);
    assertThat(notified).containsExactly(List.of(new PlayerEvent.GoldEarned(30, "gift")));
    c.commit(tx, to).block(); // sent again: finds it done
    assertThat(notified).hasSize(1);
  }

  /**
   * A vote with nothing to write is never stored: its failed commit releases the player at once.
   */
  @Test
  void a_failed_commit_of_a_vote_with_nothing_to_write_releases_the_player_at_once() {
    java.util.concurrent.atomic.AtomicBoolean readsFail =
        new java.util.concurrent.atomic.AtomicBoolean();
    var host = readsFailWhile(readsFail, (id, state, version, events) -> Mono.empty());
    String id = player(host, "b-", 10);
    var sameName = new PlayerCommand.SetNickname(host.get(id).block().state().nickname(), 0);
    String tx = "tx-" + UUID.randomUUID();
    assertThat(host.prepare(tx, id, sameName, Duration.ofSeconds(30)).block().events()).isEmpty();

    readsFail.set(true);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> host.commitPrepared(tx, id).block())
        .hasMessageContaining("injected");
    readsFail.set(false);

    // Not refused as held (a hold kept here would last until its lapse, 30 s).
    var earned = host.handle(id, new PlayerCommand.EarnGold(1, "after"), CLOCK.instant()).block();
    assertThat(earned.state().gold()).isEqualTo(11);
  }

  /** An instance on the shared store whose stream reads fail while {@code failing} is set. */
  AggregateHost<PlayerState, PlayerCommand, PlayerEvent> readsFailWhile(
      java.util.concurrent.atomic.AtomicBoolean failing,
      AfterCommit<PlayerState, PlayerEvent> work) {
    return readsAlteredWhile(
        failing,
        read ->
            reactor.core.publisher.Flux.error(
                new IllegalStateException("connection reset (injected)")),
        List.of(work));
  }

  /** An instance on the shared store whose stream reads go through {@code fault} while set. */
  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> readsAlteredWhile(
      java.util.concurrent.atomic.AtomicBoolean set,
      java.util.function.UnaryOperator<
              reactor.core.publisher.Flux<dev.citadel.eventstore.StoredEvent>>
          fault,
      List<AfterCommit<PlayerState, PlayerEvent>> work) {
    var altered =
        new dev.citadel.gamestate.testing.ForwardingEventStore(store()) {
          @Override
          public reactor.core.publisher.Flux<dev.citadel.eventstore.StoredEvent> readStream(
              String id, long afterSeq) {
            return set.get()
                ? fault.apply(super.readStream(id, afterSeq))
                : super.readStream(id, afterSeq);
          }
        };
    return hostOn(altered, work);
  }

  /**
   * Under load the commit message comes long after the store. A command (a seat's leave, a player's
   * own) or another transaction's prepare that finds the player held by a stored transaction
   * commits it from the journal and goes on, instead of being refused until the message comes.
   */
  @Test
  void a_player_held_by_a_stored_transaction_takes_commands_and_prepares_before_its_commit() {
    List<List<PlayerEvent>> notified = new java.util.concurrent.CopyOnWriteArrayList<>();
    var hooked = notifying(notified);
    // Holds that cannot lapse while this test runs: only reading the journal may release them.
    var c = new LocalParticipant(hooked, new PlayerAggregate(), CLOCK, Duration.ofSeconds(30));
    String from = player(hostA, "a-", 100);
    String to = player(hooked, "b-", 0);
    notified.clear();
    Participant commitLate = withoutCommits(c); // not yet
    String first = coordinator(coordinatorStore, a, commitLate).execute(gift(from, to, 30)).block();

    hooked.handle(to, new PlayerCommand.SpendGold(10, "at once"), CLOCK.instant()).block();
    assertThat(hooked.get(to).block().state().gold()).isEqualTo(20);

    String second = coordinator(coordinatorStore, a, commitLate).execute(gift(from, to, 5)).block();
    String third = coordinator(coordinatorStore, a, commitLate).execute(gift(from, to, 1)).block();
    assertThat(hooked.get(to).block().state().gold()).isEqualTo(26);
    for (String tx : List.of(first, second, third)) {
      c.commit(tx, to).block(); // late: each finds its transaction done
    }
    assertThat(hooked.get(to).block().state().gold()).isEqualTo(26);
    assertThat(notified)
        .as("every transaction's and command's after-commit work, once each")
        .containsExactly(
            List.of(new PlayerEvent.GoldEarned(30, "gift")),
            List.of(new PlayerEvent.GoldSpent(10, "at once")),
            List.of(new PlayerEvent.GoldEarned(5, "gift")),
            List.of(new PlayerEvent.GoldEarned(1, "gift")));
  }

  @Test
  void a_read_that_finds_another_writer_after_the_held_events_still_runs_their_after_commit_work() {
    List<List<PlayerEvent>> notified = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> at = new java.util.concurrent.CopyOnWriteArrayList<>();
    var hooked =
        hooked(
            (id, state, version, events) ->
                Mono.fromRunnable(
                    () -> {
                      notified.add(List.copyOf(events));
                      at.add(version + ":" + state.gold());
                    }));
    // A hold that cannot lapse while this test runs: a lapse would drop it without the work.
    var c = new LocalParticipant(hooked, new PlayerAggregate(), CLOCK, Duration.ofSeconds(30));
    String from = player(hostA, "a-", 100);
    String to = player(hooked, "b-", 0);
    notified.clear();
    at.clear();
    Participant commitLate = withoutCommits(c); // not yet: another writer and a read come first
    long before = hooked.get(to).block().version();
    String tx = coordinator(coordinatorStore, a, commitLate).execute(gift(from, to, 30)).block();
    // Another instance, which does not hold the player, writes after the stored gift.
    hostA.handle(to, new PlayerCommand.SpendGold(10, "elsewhere"), CLOCK.instant()).block();

    assertThat(hooked.get(to).block().state().gold()).isEqualTo(20);
    assertThat(notified)
        .as("the held gift's own work, once; the other writer's is its instance's")
        .containsExactly(List.of(new PlayerEvent.GoldEarned(30, "gift")));
    assertThat(at).as("at the gift's version and state").containsExactly((before + 1) + ":30");
    c.commit(tx, to).block(); // the late commit finds it done
    assertThat(notified).hasSize(1);
  }

  /**
   * A held copy that must be reloaded (its catch-up found a gap: retention removed events it
   * missed) and comes back past the held version lets the hold go, as a catch-up does: the holding
   * transaction was stored or can no longer be. Held on, the player refused every command until the
   * lapse.
   */
  @Test
  void a_held_copy_reloaded_past_the_held_version_lets_the_hold_go() {
    java.util.concurrent.atomic.AtomicBoolean gap = new java.util.concurrent.atomic.AtomicBoolean();
    // What retention does to a reader that fell behind: the oldest newer event is gone.
    var hooked = readsAlteredWhile(gap, read -> read.skip(1), List.of());
    // A hold that cannot lapse while this test runs: only the reload may release it.
    var c = new LocalParticipant(hooked, new PlayerAggregate(), CLOCK, Duration.ofSeconds(30));
    String from = player(hostA, "a-", 100);
    String to = player(hooked, "b-", 0);
    coordinator(coordinatorStore, a, withoutCommits(c)).execute(gift(from, to, 30)).block();
    hostA.handle(to, new PlayerCommand.SpendGold(10, "elsewhere"), CLOCK.instant()).block();

    gap.set(true);
    assertThat(hooked.get(to).block().state().gold()).as("reloaded whole").isEqualTo(20);
    var earned = hooked.handle(to, new PlayerCommand.EarnGold(1, "after"), CLOCK.instant()).block();
    assertThat(earned.state().gold()).as("not refused as held").isEqualTo(21);
  }

  /**
   * A copy that fell behind while retention cut every event after its version (a snapshot past it
   * is all that is left of them): its read finds the stored version ahead and no newer events, and
   * must load the snapshot, not answer the old state as current.
   */
  @Test
  void a_copy_whose_missed_events_retention_removed_entirely_is_reloaded_on_read() {
    java.util.concurrent.atomic.AtomicBoolean cut = new java.util.concurrent.atomic.AtomicBoolean();
    var hooked = readsAlteredWhile(cut, read -> read.filter(e -> false), List.of());
    String id = player(hooked, "b-", 100);
    assertThat(hooked.get(id).block().state().gold()).isEqualTo(100);
    hostA.handle(id, new PlayerCommand.SpendGold(40, "elsewhere"), CLOCK.instant()).block();

    cut.set(true); // what the reader finds after retention: nothing after its version
    assertThat(hooked.get(id).block().state().gold()).as("reloaded, not stale").isEqualTo(60);
  }

  @Test
  void duplicate_prepare_and_commit_messages_are_harmless() {
    String from = player(hostA, "a-", 100);
    String tx = UUID.randomUUID().toString();
    Map<String, Object> args = Map.of("amount", 10, "reason", "dup");
    Vote first = a.prepare(tx, from, "spend-gold", args).block();
    Vote again = a.prepare(tx, from, "spend-gold", args).block();
    assertThat(again.expectedVersion()).isEqualTo(first.expectedVersion());
    assertThat(again.events()).hasSize(1);
    assertThat(again.events().get(0).payload()).isEqualTo(first.events().get(0).payload());
    store()
        .appendAtomically(
            List.of(
                new AppendRequest(
                    "player", from, first.expectedVersion(), first.events(), CLOCK.instant())))
        .block();
    a.commit(tx, from).block();
    a.commit(tx, from).block();
    a.abort(tx, from).block(); // a late abort after the commit changes nothing
    assertThat(gold(hostA, from)).isEqualTo(90);
    assertThat(hostA.get(from).block().version()).isEqualTo(first.expectedVersion() + 1);
  }

  @Test
  void a_prepare_that_arrives_after_its_abort_holds_nobody() {
    String from = player(hostA, "a-", 100);
    String tx = UUID.randomUUID().toString();
    // The coordinator gave up waiting and aborted; its prepare was still on the way.
    a.abort(tx, from).block();
    assertThatThrownBy(
            () -> a.prepare(tx, from, "spend-gold", Map.of("amount", 10, "reason", "late")).block())
        .isInstanceOf(Refused.class)
        .hasMessageContaining("aborted");
    // Not held: the player's next command runs at once.
    hostA.handle(from, new PlayerCommand.EarnGold(1, "after"), CLOCK.instant()).block();
    assertThat(gold(hostA, from)).isEqualTo(101);
  }

  @Test
  void a_store_that_lands_but_whose_reply_is_lost_is_looked_up_and_committed_once() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    EventStore replyLost = new LandsThenFails(coordinatorStore);
    String tx = coordinator(replyLost, a, b).execute(gift(from, to, 30)).block();
    assertThat(tx).as("the key was found: committed, not 503").isNotBlank();
    assertThat(gold(hostA, from)).isEqualTo(70);
    assertThat(gold(hostB, to)).isEqualTo(30);
  }

  /** Passes every call on, and records what each commit was told was stored. */
  static final class StoredHeard implements Participant {
    final Participant to;
    final List<Map<String, Long>> heard = new java.util.concurrent.CopyOnWriteArrayList<>();

    StoredHeard(Participant to) {
      this.to = to;
    }

    @Override
    public Mono<Vote> prepare(String txId, String id, String command, Map<String, Object> args) {
      return to.prepare(txId, id, command, args);
    }

    @Override
    public Mono<Void> commit(String txId, String id) {
      return to.commit(txId, id);
    }

    @Override
    public Mono<Void> abort(String txId, String id) {
      return to.abort(txId, id);
    }

    @Override
    public Mono<Void> commitAll(String txId, List<String> ids, Map<String, Long> stored) {
      heard.add(stored);
      return to.commitAll(txId, ids, stored);
    }
  }

  /**
   * Only the coordinator's own append lets a participant apply its vote unread: after a lookup (the
   * reply lost), what was stored is the journal's to say.
   */
  @Test
  void participants_hear_the_stored_versions_only_from_the_coordinators_own_append() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    StoredHeard forA = new StoredHeard(a);
    StoredHeard forB = new StoredHeard(b);
    coordinator(coordinatorStore, forA, forB).execute(gift(from, to, 30)).block();
    assertThat(forA.heard).containsExactly(Map.of(from, 2L));
    assertThat(forB.heard).containsExactly(Map.of(to, 1L));

    StoredHeard lostA = new StoredHeard(a);
    StoredHeard lostB = new StoredHeard(b);
    coordinator(new LandsThenFails(coordinatorStore), lostA, lostB)
        .execute(gift(from, to, 30))
        .block();
    assertThat(lostA.heard).containsExactly(Map.of());
    assertThat(lostB.heard).containsExactly(Map.of());
    assertThat(gold(hostA, from)).isEqualTo(40);
    assertThat(gold(hostB, to)).isEqualTo(60);
  }

  @Test
  void a_keyed_repeat_whose_store_fails_in_doubt_is_a_repeat_not_a_new_commit() {
    // The key is met at the append (it was stored before), and the reply is lost: the lookup finds
    // the key, but written by the earlier append, so this one stored nothing: a repeat.
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    IdempotencyKey key = IdempotencyKey.of("gift:" + from + ":doubt", "30");
    assertThat(coordinator(coordinatorStore, a, b).execute(gift(from, to, 30), key).block())
        .extracting(Coordinator.Outcome::repeated)
        .isEqualTo(false);
    Coordinator.Outcome again =
        coordinator(new FailingStore(coordinatorStore), a, b)
            .execute(gift(from, to, 30), key)
            .block();
    assertThat(again.repeated()).isTrue();
    assertThat(gold(hostA, from)).isEqualTo(70);
    assertThat(gold(hostB, to)).isEqualTo(30);
  }

  @Test
  void a_transaction_with_a_key_runs_once_however_often_it_is_sent() {
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    Coordinator c = coordinator(coordinatorStore, a, b);
    IdempotencyKey key = IdempotencyKey.of("gift:" + from + ":k1", gift(from, to, 30));
    Coordinator.Outcome first = c.execute(gift(from, to, 30), key).block();
    Coordinator.Outcome again = c.execute(gift(from, to, 30), key).block();
    assertThat(first.repeated()).isFalse();
    assertThat(again.repeated()).isTrue();
    // Sent again while the reply to the first was lost: the same, once.
    Coordinator.Outcome lost =
        coordinator(new LandsThenFails(coordinatorStore), a, b)
            .execute(gift(from, to, 5), IdempotencyKey.of("gift:" + from + ":k2", "five"))
            .block();
    assertThat(lost.repeated()).isFalse();
    assertThat(
            c.execute(gift(from, to, 5), IdempotencyKey.of("gift:" + from + ":k2", "five"))
                .block()
                .repeated())
        .isTrue();
    assertThat(gold(hostA, from)).isEqualTo(65);
    assertThat(gold(hostB, to)).isEqualTo(35);
    // The same key for another gift is a mistake, not a no-op.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                c.execute(gift(from, to, 1), IdempotencyKey.of("gift:" + from + ":k2", "one"))
                    .block())
        .isInstanceOf(dev.citadel.gamestate.aggregate.KeyReused.class);
  }

  @Test
  void a_keyed_repeat_its_players_refuse_is_answered_as_a_repeat() {
    // The first try of a keyed transaction prepares without looking the key up: a repeat that
    // the players' rules refuse (the gold is spent, the friend request asked) is looked up then.
    String from = player(hostA, "a-", 30);
    String to = player(hostB, "b-", 0);
    Coordinator c = coordinator(coordinatorStore, a, b);
    IdempotencyKey all = IdempotencyKey.of("gift:" + from + ":all", "30");
    assertThat(c.execute(gift(from, to, 30), all).block().repeated()).isFalse();
    assertThat(c.execute(gift(from, to, 30), all).block().repeated()).isTrue();
    assertThat(gold(hostA, from)).isZero();
    assertThat(gold(hostB, to)).isEqualTo(30);

    List<Step> ask =
        List.of(
            new Step(from, LocalParticipant.RELATE, Map.of("other", to, "action", "SEND")),
            new Step(to, LocalParticipant.RELATE, Map.of("other", from, "action", "RECEIVE")));
    IdempotencyKey asked = IdempotencyKey.of("friend:" + from + ":1", "send " + to);
    assertThat(c.execute(ask, asked).block().repeated()).isFalse();
    assertThat(c.execute(ask, asked).block().repeated()).isTrue();
    // Without the key, the same request is refused by the rules: a conflict.
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> c.execute(ask).block())
        .isInstanceOf(Refused.class);
  }

  /** A match's result as its rating steps: {@code x} in the winning team, {@code y} not. */
  static List<Step> rating(String match, String x, String y) {
    List<dev.citadel.protocol.match.v1.MatchedPlayer> lineup =
        List.of(
            dev.citadel.protocol.match.v1.MatchedPlayer.newBuilder()
                .setPlayerId(x)
                .setTeam(0)
                .setElo(1200)
                .build(),
            dev.citadel.protocol.match.v1.MatchedPlayer.newBuilder()
                .setPlayerId(y)
                .setTeam(1)
                .setElo(1200)
                .build());
    var rules =
        new dev.citadel.gamestate.results.QueueRules(
            1200,
            24,
            48,
            10,
            new dev.citadel.gamestate.results.QueueRules.Reward(100, 300),
            new dev.citadel.gamestate.results.QueueRules.Reward(25, 100),
            new dev.citadel.gamestate.results.QueueRules.Reward(50, 200));
    List<Step> steps =
        dev.citadel.gamestate.results.ResultPlan.steps(
            match, "ranked", lineup, dev.citadel.protocol.match.v1.Result.RESULT_TEAM_0_WON, rules);
    return steps;
  }

  @Test
  void a_repeat_that_finds_its_key_only_once_it_holds_the_players_is_answered_as_a_repeat() {
    // Its first lookup comes before the original stored; its prepare after the original committed
    // decides nothing (rated already): the lookup made then, with every player held, finds the key.
    String x = player(hostA, "a-", 0);
    String y = player(hostA, "a-", 0);
    String match = "m-" + UUID.randomUUID();
    List<Step> steps = rating(match, x, y);
    IdempotencyKey key = IdempotencyKey.of("result:" + match, "RESULT_TEAM_0_WON");
    Coordinator original = coordinator(coordinatorStore, a, b);
    Participant originalFirst =
        new Wrapped(a) {
          @Override
          public Mono<List<Vote>> prepareAll(String tx, List<Step> mine) {
            return original
                .execute(steps, key)
                .doOnNext(o -> assertThat(o.repeated()).as("the original").isFalse())
                .then(super.prepareAll(tx, mine));
          }
        };
    Coordinator.Outcome repeat =
        coordinator(coordinatorStore, originalFirst, b).execute(steps, key).block();
    assertThat(repeat.repeated()).isTrue();
    assertThat(gold(hostA, x)).isEqualTo(100);
    assertThat(gold(hostA, y)).isEqualTo(25);
  }

  @Test
  void the_same_keyed_result_sent_five_times_at_once_is_applied_once_and_reported_first_once() {
    // A rating is a no-op the second time (the match is rated already): a try that runs after the
    // first committed stores nothing, so only the key can tell it was a repeat.
    String x = player(hostA, "a-", 0);
    String y = player(hostB, "b-", 0);
    String match = "m-" + UUID.randomUUID();
    List<Step> steps = rating(match, x, y);
    IdempotencyKey key = IdempotencyKey.of("result:" + match, "RESULT_TEAM_0_WON");
    Coordinator c = coordinator(coordinatorStore, a, b);

    List<Coordinator.Outcome> outcomes =
        reactor.core.publisher.Flux.range(0, 5)
            .flatMap(
                i ->
                    Mono.defer(() -> c.execute(steps, key))
                        .subscribeOn(reactor.core.scheduler.Schedulers.parallel())
                        .retryWhen(
                            reactor.util.retry.Retry.backoff(20, Duration.ofMillis(20))
                                .filter(
                                    e ->
                                        e instanceof Refused r
                                            && r.getCause()
                                                instanceof dev.citadel.gamestate.aggregate.Held)))
            .collectList()
            .block(Duration.ofSeconds(30));

    assertThat(outcomes).hasSize(5);
    assertThat(outcomes.stream().filter(o -> !o.repeated()).count()).as("first runs").isEqualTo(1);
    assertThat(gold(hostA, x)).isEqualTo(100);
    assertThat(gold(hostB, y)).isEqualTo(25);
  }

  @Test
  void a_committed_transaction_leaves_each_copy_exactly_where_the_journal_is() {
    // A copy behind the journal would apply the gift again at its next catch-up; one ahead would
    // skip what comes next.
    String from = player(hostA, "a-", 100);
    String to = player(hostB, "b-", 0);
    coordinator(coordinatorStore, a, b).execute(gift(from, to, 30)).block();
    var fresh = host();
    for (String id : List.of(from, to)) {
      var host = id.startsWith("a-") ? hostA : hostB;
      var copy = host.get(id).block();
      var journal = fresh.get(id).block();
      assertThat(copy.version()).as(id).isEqualTo(journal.version());
      assertThat(copy.state()).as(id).isEqualTo(journal.state());
    }
    assertThat(gold(hostA, from)).isEqualTo(70);
    assertThat(gold(hostB, to)).isEqualTo(30);
  }

  @Test
  void a_commit_the_store_never_saw_changes_nothing() {
    // A prepare and a commit with no store between them (a caller that should not be calling,
    // or a coordinator bug): the participant applies only what the journal holds, i.e. nothing.
    String player = player(hostA, "a-", 100);
    long version = hostA.get(player).block().version();
    String tx = UUID.randomUUID().toString();
    a.prepare(tx, player, "earn-gold", Map.of("amount", 1_000_000, "reason", "forged")).block();
    a.commit(tx, player).block();
    assertThat(gold(hostA, player)).isEqualTo(100);
    assertThat(hostA.get(player).block().version()).isEqualTo(version);
    // ... and the player takes commands at once (the commit released the hold).
    hostA.handle(player, new PlayerCommand.SpendGold(1, "after"), CLOCK.instant()).block();
    assertThat(gold(hostA, player)).isEqualTo(99);
  }

  @Test
  void opposite_order_transactions_on_the_same_players_all_finish_without_deadlock() {
    String x = player(hostA, "a-", 1000);
    String y = player(hostB, "b-", 1000);
    Coordinator c = coordinator(coordinatorStore, a, b);
    List<String> outcomes =
        Flux.range(0, 40)
            .flatMap(
                i ->
                    c.execute(i % 2 == 0 ? gift(x, y, 1) : gift(y, x, 1))
                        .map(tx -> "committed")
                        .onErrorResume(Refused.class, r -> Mono.just("refused " + r.reason())),
                16)
            .collectList()
            .block(Duration.ofSeconds(60));
    assertThat(outcomes).hasSize(40).contains("committed");
    assertThat(gold(hostA, x) + gold(hostB, y)).isEqualTo(2000);
  }

  static void assertRefused(Mono<String> tx, Refused.Reason status) {
    assertThat(refusal(tx).reason()).isEqualTo(status);
  }

  /** Passes everything through; tests override the step they break. */
  static class Wrapped implements Participant {
    final Participant inner;

    Wrapped(Participant inner) {
      this.inner = inner;
    }

    @Override
    public Mono<Vote> prepare(String tx, String p, String c, Map<String, Object> args) {
      return inner.prepare(tx, p, c, args);
    }

    @Override
    public Mono<Void> commit(String tx, String p) {
      return inner.commit(tx, p);
    }

    @Override
    public Mono<Void> abort(String tx, String p) {
      return inner.abort(tx, p);
    }
  }
}
