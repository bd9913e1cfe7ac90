package dev.citadel.gamestate.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.eventstore.StoredEvent;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerRejected;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.storage.PlayerCodec;
import dev.citadel.gamestate.testing.OpenedPools;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.pool.ConnectionPool;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@CitadelInfra
class AggregateHostTest {
  @RegisterExtension static final OpenedPools POOLS = new OpenedPools();

  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  static PostgresEndpoint db;

  @BeforeAll
  static void migrate() {
    db = SharedInfra.postgresDatabase("gamestate_host_test");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
  }

  /** A game-state "instance": its own connection pool, store and host. */
  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> instance(
      SnapshotPolicy snapshots, HostOptions options, AtomicLong clock) {
    ConnectionPool pool = POOLS.open(db, 8);
    PostgresEventStore store =
        new PostgresEventStore(
            pool, EventStoreOptions.defaults().withPolicy(PlayerAggregate.NAME, snapshots));
    return new AggregateHost<>(
        new PlayerAggregate(),
        store,
        snapshots,
        options,
        List.of(),
        new SimpleMeterRegistry(),
        clock::get);
  }

  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> instance(SnapshotPolicy s) {
    return instance(s, HostOptions.defaults(), new AtomicLong(System.nanoTime()));
  }

  static PostgresEventStore reader() {
    ConnectionPool pool = POOLS.open(db, 4);
    return new PostgresEventStore(pool, EventStoreOptions.defaults());
  }

  static String newPlayer() {
    return "p-" + UUID.randomUUID();
  }

  static List<PlayerEvent> history(PostgresEventStore store, String id) {
    return store
        .readStream(id)
        .map(e -> PlayerCodec.decode(e.type(), e.payload()))
        .collectList()
        .block();
  }

  record Ack(String player, long version, List<PlayerEvent> events) {}

  static PlayerCommand randomCommand(Random r) {
    return switch (r.nextInt(5)) {
      case 0 -> new PlayerCommand.EarnGold(1 + r.nextInt(50), "quest");
      case 1 -> new PlayerCommand.SpendGold(1 + r.nextInt(60), "shop");
      case 2 -> new PlayerCommand.GainExperience(1 + r.nextInt(200));
      case 3 -> new PlayerCommand.AddItem("gem", 1 + r.nextInt(3));
      default -> new PlayerCommand.RemoveItem("gem", 1 + r.nextInt(3));
    };
  }

  /**
   * A snapshot another version of the code wrote (its type is not ours) is never decoded as ours:
   * the player is replayed from its events, and comes back exactly as it was.
   */
  @Test
  void a_snapshot_of_another_type_is_skipped_and_the_player_replayed_from_its_events() {
    SnapshotPolicy noRetention = new SnapshotPolicy(1_000, false, 2);
    var first = instance(noRetention);
    String id = newPlayer();
    first
        .handle(id, new PlayerCommand.CreatePlayer("snap" + (id.hashCode() & 0xffff), T), T)
        .block();
    for (int i = 0; i < 5; i++) {
      first.handle(id, new PlayerCommand.EarnGold(10 + i, "quest"), T).block();
    }
    var before = first.get(id).block();
    // Saved without retention, so its events stay (with retention they go up to the snapshot).
    new PostgresEventStore(
            POOLS.open(db, 2),
            EventStoreOptions.defaults().withPolicy(PlayerAggregate.NAME, noRetention))
        .saveSnapshot(
            new dev.citadel.eventstore.Snapshot(
                PlayerAggregate.NAME,
                id,
                before.version(),
                "citadel.test.SomeOtherSnapshot",
                new byte[] {8, 1, 18, 3, 'b', 'a', 'd'},
                T))
        .block();
    assertThat(reader().load(id).block().snapshot()).isPresent();

    var after = instance(noRetention).get(id).block();
    assertThat(after.version()).isEqualTo(before.version());
    assertThat(after.state()).isEqualTo(before.state());
  }

  /**
   * Two instances on one database both believe they own the same players (as during a rebalance)
   * and receive commands for them at the same time. The store's fencing keeps every player
   * consistent.
   */
  @Test
  void two_instances_writing_the_same_players_never_corrupt_them() {
    SnapshotPolicy noRetention = new SnapshotPolicy(25, false, 2);
    var a = instance(noRetention);
    var b = instance(noRetention);
    List<String> players = IntStream.range(0, 40).mapToObj(i -> newPlayer()).toList();
    Flux.fromIterable(players)
        .flatMap(
            id ->
                a.handle(id, new PlayerCommand.CreatePlayer("p" + (id.hashCode() & 0xffff), T), T))
        .blockLast();

    ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    AtomicInteger refused = new AtomicInteger();
    Random random = new Random(1);
    List<Mono<Void>> work = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      var host = random.nextBoolean() ? a : b;
      String id = players.get(random.nextInt(players.size()));
      PlayerCommand command = randomCommand(random);
      work.add(
          host.handle(id, command, T)
              .doOnNext(r -> acks.add(new Ack(id, r.version(), r.events())))
              .onErrorResume(
                  e ->
                      e instanceof PlayerRejected
                          || e instanceof dev.citadel.eventstore.ConcurrencyConflict,
                  e -> {
                    refused.incrementAndGet();
                    return Mono.empty();
                  })
              .then());
    }
    Flux.fromIterable(work).flatMap(m -> m, 64).blockLast();
    assertThat(acks).isNotEmpty();

    PostgresEventStore store = reader();
    var fresh = instance(noRetention);
    for (String id : players) {
      List<StoredEvent> stored = store.readStream(id).collectList().block();
      assertThat(stored)
          .extracting(StoredEvent::seq)
          .as("seqs of %s: 1..n, none repeated", id)
          .containsExactlyElementsOf(
              java.util.stream.LongStream.rangeClosed(1, stored.size()).boxed().toList());
      PlayerState replayed = Player.replay(PlayerState.initial(id), history(store, id));
      assertThat(replayed.gold()).isNotNegative();
      assertThat(replayed.quantityOf("gem")).isNotNegative();
      // A recovering instance (snapshot + tail) sees exactly the replay.
      assertThat(fresh.get(id).block().state()).isEqualTo(replayed);
    }
    // Every command acknowledged to a client is in the store, at the version it was told.
    for (Ack ack : acks) {
      List<PlayerEvent> all = history(store, ack.player());
      if (ack.events().isEmpty()) {
        continue;
      }
      int from = (int) ack.version() - ack.events().size();
      assertThat(all.subList(from, (int) ack.version()))
          .as("acknowledged events of %s at %d", ack.player(), ack.version())
          .isEqualTo(ack.events());
    }
  }

  @Test
  void
      after_commit_work_runs_once_per_command_and_a_failing_hook_neither_stops_the_others_nor_the_command() {
    AtomicInteger subscribed = new AtomicInteger();
    List<Long> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    AfterCommit<PlayerState, PlayerEvent> throwsAtOnce =
        (id, state, version, events) -> {
          throw new IllegalStateException("a hook that throws while describing its work");
        };
    AfterCommit<PlayerState, PlayerEvent> failsLater =
        (id, state, version, events) -> Mono.error(new IllegalStateException("redis down"));
    AfterCommit<PlayerState, PlayerEvent> counts =
        (id, state, version, events) ->
            Mono.fromRunnable(
                () -> {
                  subscribed.incrementAndGet();
                  seen.add(state.gold());
                });
    ConnectionPool pool = POOLS.open(db, 4);
    var host =
        new AggregateHost<>(
            new PlayerAggregate(),
            new PostgresEventStore(pool, EventStoreOptions.defaults()),
            SnapshotPolicy.DEFAULT,
            HostOptions.defaults(),
            List.of(throwsAtOnce, failsLater, counts),
            new SimpleMeterRegistry(),
            System::nanoTime);
    String id = newPlayer();

    host.handle(id, new PlayerCommand.CreatePlayer("hooked", T), T).block();
    var earned = host.handle(id, new PlayerCommand.EarnGold(7, "q"), T).block();

    assertThat(earned.state().gold()).isEqualTo(7);
    await().atMost(Duration.ofSeconds(10)).until(() -> subscribed.get() == 2);
    assertThat(seen).containsExactly(0L, 7L);
  }

  @Test
  void a_stale_copy_is_reloaded_and_the_command_retried_once() {
    SnapshotPolicy policy = SnapshotPolicy.DEFAULT;
    var a = instance(policy);
    var b = instance(policy);
    String id = newPlayer();
    a.handle(id, new PlayerCommand.CreatePlayer("carol", T), T).block();
    a.handle(id, new PlayerCommand.EarnGold(10, "q"), T).block();
    // b changes the player behind a's back...
    b.handle(id, new PlayerCommand.EarnGold(5, "q"), T).block();
    // ...so a's append (valid in a's stale view: 10 gold) conflicts; a reloads (15 gold),
    // decides again and succeeds on top of b's change.
    var result = a.handle(id, new PlayerCommand.SpendGold(10, "shop"), T).block();
    assertThat(result.state().gold()).isEqualTo(5);
    assertThat(result.version()).isEqualTo(4);
    assertThat(reader().load(id).block().version()).isEqualTo(4);
  }

  @Test
  void a_player_created_elsewhere_is_seen_although_it_was_read_as_missing_before() {
    var a = instance(SnapshotPolicy.DEFAULT);
    var b = instance(SnapshotPolicy.DEFAULT);
    String id = newPlayer();
    assertThat(a.get(id).block().state().exists()).isFalse(); // a now holds a resident at v0
    b.handle(id, new PlayerCommand.CreatePlayer("gina", T), T).block();
    assertThat(a.get(id).block().state().exists()).isTrue();
  }

  @Test
  void a_copy_left_behind_by_an_ownership_change_never_answers_stale() {
    var a = instance(SnapshotPolicy.DEFAULT);
    var b = instance(SnapshotPolicy.DEFAULT);
    String id = newPlayer();
    a.handle(id, new PlayerCommand.CreatePlayer("hank", T), T).block(); // a keeps a copy at v1
    b.handle(id, new PlayerCommand.EarnGold(7, "quest"), T).block(); // the owner moved to b

    // Back on a: the read shows b's write, and a spend a's old copy would refuse goes through.
    assertThat(a.get(id).block().state().gold()).isEqualTo(7);
    b.handle(id, new PlayerCommand.EarnGold(3, "quest"), T).block();
    assertThat(a.handle(id, new PlayerCommand.SpendGold(10, "shop"), T).block().state().gold())
        .isZero();
  }

  /**
   * A read checks the copy's version against the store (grouped: one query for the reads that
   * arrive together) and reads the journal only when another writer moved the stream on.
   */
  @Test
  void reads_of_a_current_copy_come_from_memory_and_their_version_checks_are_grouped() {
    AtomicInteger streamReads = new AtomicInteger();
    AtomicInteger versionLookups = new AtomicInteger();
    reactor.core.publisher.Sinks.Empty<Void> gate = reactor.core.publisher.Sinks.empty();
    var counting =
        new dev.citadel.gamestate.testing.ForwardingEventStore(reader()) {
          @Override
          public Flux<StoredEvent> readStream(String id, long afterSeq) {
            streamReads.incrementAndGet();
            return super.readStream(id, afterSeq);
          }

          @Override
          public Mono<java.util.Map<String, Long>> versions(java.util.Collection<String> ids) {
            // The first lookup waits for the gate: every read asks while it is under way.
            return versionLookups.incrementAndGet() == 1
                ? gate.asMono().then(super.versions(ids))
                : super.versions(ids);
          }
        };
    var host =
        new AggregateHost<>(
            new PlayerAggregate(),
            counting,
            SnapshotPolicy.DEFAULT,
            HostOptions.defaults(),
            List.of(),
            new SimpleMeterRegistry(),
            System::nanoTime);
    List<String> ids = IntStream.range(0, 200).mapToObj(i -> newPlayer()).toList();
    Flux.fromIterable(ids)
        .flatMap(id -> host.handle(id, new PlayerCommand.CreatePlayer("reader", T), T))
        .blockLast();
    streamReads.set(0);
    versionLookups.set(0);

    // All 200 reads ask at once (each player's turn starts on subscription, with nothing queued).
    var reads =
        Flux.fromIterable(ids)
            .flatMap(host::get, ids.size())
            .map(r -> r.version())
            .collectList()
            .toFuture();
    gate.tryEmitEmpty().orThrow();
    List<Long> versions = reads.join();

    assertThat(versions).hasSize(ids.size()).containsOnly(1L);
    assertThat(streamReads).hasValue(0);
    // The first read's lookup, then one for the 199 that asked while it ran.
    assertThat(versionLookups).hasValue(2);

    // Another instance writes one of them: the next read there sees it (reading the journal).
    instance(SnapshotPolicy.DEFAULT)
        .handle(ids.get(0), new PlayerCommand.EarnGold(5, "quest"), T)
        .block();
    assertThat(host.get(ids.get(0)).block().state().gold()).isEqualTo(5);
    assertThat(streamReads).hasValue(1);
  }

  /**
   * Seating and leaving run on whichever instance owns the Kafka partition, not the player's. A
   * "leave" decided on an old copy that has no seat used to answer "already left", and the player
   * kept the seat forever.
   */
  @Test
  void a_no_op_on_a_stale_copy_is_checked_against_the_journal() {
    var a = instance(SnapshotPolicy.DEFAULT);
    var b = instance(SnapshotPolicy.DEFAULT);
    String id = newPlayer();
    a.handle(id, new PlayerCommand.CreatePlayer("lena", T), T).block(); // a keeps a copy, no seat
    b.handle(id, new PlayerCommand.JoinRoom("m-stale", 0, 3), T).block(); // seated through b

    var left = a.handle(id, new PlayerCommand.LeaveRoom("m-stale"), T).block();

    assertThat(left.events()).containsExactly(new PlayerEvent.RoomLeft("m-stale"));
    assertThat(left.state().room()).isEmpty();
    assertThat(history(reader(), id)).endsWith(new PlayerEvent.RoomLeft("m-stale"));
    // And a real no-op stays one: nothing appended.
    var again = a.handle(id, new PlayerCommand.LeaveRoom("m-stale"), T).block();
    assertThat(again.events()).isEmpty();
    assertThat(reader().load(id).block().version()).isEqualTo(3);
  }

  /**
   * A game's end can be followed before its seat lands: the seat of a batch attempt that failed
   * elsewhere still lands later, or another instance follows the end first. The leave is recorded
   * even though the player is not seated, so the seat, decided on the older version, conflicts, and
   * decided again it is refused: the player is not left in a game that is over (the results
   * benchmark found ten to thirty players stuck so per run).
   */
  @Test
  void a_seat_that_lands_after_its_game_was_left_is_refused() {
    var a = instance(SnapshotPolicy.DEFAULT);
    var b = instance(SnapshotPolicy.DEFAULT);
    String id = newPlayer();
    a.handle(id, new PlayerCommand.CreatePlayer("nora", T), T).block(); // a's copy: version 1

    var left = b.handle(id, new PlayerCommand.LeaveRoom("m-over"), T).block();
    assertThat(left.events()).containsExactly(new PlayerEvent.RoomLeft("m-over"));

    // a's copy knows nothing of the leave: its seat is decided, conflicts, and is decided again.
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> a.handle(id, new PlayerCommand.JoinRoom("m-over", 0, 3), T).block())
        .isInstanceOf(PlayerRejected.class)
        .hasMessageContaining("match m-over is over");
    assertThat(history(reader(), id)).doesNotHaveAnyElementsOfTypes(PlayerEvent.RoomJoined.class);
    assertThat(a.get(id).block().state().room()).isEmpty();
  }

  /** A caller that gave up before its command started (a client timeout) changes nothing. */
  @Test
  void a_command_cancelled_before_it_starts_is_not_run() {
    var a = instance(SnapshotPolicy.DEFAULT);
    String id = newPlayer();
    a.handle(id, new PlayerCommand.CreatePlayer("mona", T), T).block();
    // Twenty commands queue in the player's mailbox (each waits for the append before it); the
    // last one is cancelled while the first ones still run. (a.get below queues behind it.)
    List<reactor.core.Disposable> running = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      running.add(a.handle(id, new PlayerCommand.EarnGold(1, "q"), T).subscribe());
    }
    reactor.core.Disposable cancelled =
        a.handle(id, new PlayerCommand.EarnGold(1000, "cancelled"), T).subscribe();
    cancelled.dispose();
    await().until(() -> reader().load(id).block().version() >= 21);
    // Every queued command ran, in order; the cancelled one did not.
    PlayerState after = a.get(id).block().state();
    assertThat(after.gold()).isEqualTo(20);
    assertThat(reader().load(id).block().version()).isEqualTo(21);
  }

  @Test
  void players_that_do_not_exist_are_not_kept_in_memory() {
    var host = instance(SnapshotPolicy.DEFAULT);
    for (int i = 0; i < 50; i++) {
      String ghost = newPlayer();
      assertThat(host.get(ghost).block().state().exists()).isFalse();
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> host.handle(ghost, new PlayerCommand.EarnGold(1, "q"), T).block())
          .isInstanceOf(PlayerRejected.class);
    }
    assertThat(host.residentCount()).isZero();
    String real = newPlayer();
    host.handle(real, new PlayerCommand.CreatePlayer("ivan", T), T).block();
    assertThat(host.residentCount()).isEqualTo(1);
  }

  @Test
  void a_rejected_command_changes_nothing() {
    var a = instance(SnapshotPolicy.DEFAULT);
    String id = newPlayer();
    a.handle(id, new PlayerCommand.CreatePlayer("dave", T), T).block();
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> a.handle(id, new PlayerCommand.SpendGold(1, "shop"), T).block())
        .isInstanceOf(PlayerRejected.class);
    assertThat(reader().load(id).block().version()).isEqualTo(1);
    assertThat(a.get(id).block().version()).isEqualTo(1);
  }

  @Test
  void idle_players_are_passivated_and_recovered_on_next_use() {
    AtomicLong clock = new AtomicLong(0);
    var host =
        instance(
            SnapshotPolicy.DEFAULT,
            new HostOptions(
                Duration.ofMinutes(1),
                5,
                4,
                Duration.ofHours(1),
                64,
                1_000,
                10_000,
                HostOptions.READ_AHEAD_TIMEOUT),
            clock);
    List<String> players = IntStream.range(0, 8).mapToObj(i -> newPlayer()).toList();
    for (String id : players) {
      host.handle(id, new PlayerCommand.CreatePlayer("erin", T), T).block();
      host.handle(id, new PlayerCommand.EarnGold(7, "q"), T).block();
      clock.addAndGet(Duration.ofSeconds(1).toNanos());
    }
    assertThat(host.residentCount()).isEqualTo(8);

    assertThat(host.passivate()).as("above the maximum of 5: oldest go").isEqualTo(3);
    assertThat(host.residentCount()).isEqualTo(5);

    clock.addAndGet(Duration.ofMinutes(2).toNanos());
    assertThat(host.passivate()).as("all idle past the timeout").isEqualTo(5);
    assertThat(host.residentCount()).isZero();

    assertThat(
            host.handle(players.get(0), new PlayerCommand.EarnGold(1, "q"), T)
                .block()
                .state()
                .gold())
        .isEqualTo(8);
  }

  @Test
  void recovery_from_snapshot_plus_tail_equals_full_replay_for_random_commands() {
    SnapshotPolicy every7 = new SnapshotPolicy(7, false, 2);
    var host = instance(every7);
    Random random = new Random(3);
    PostgresEventStore store = reader();
    for (int run = 0; run < 15; run++) {
      String id = newPlayer();
      host.handle(id, new PlayerCommand.CreatePlayer("fay", T), T).block();
      int commands = 5 + random.nextInt(60);
      for (int i = 0; i < commands; i++) {
        host.handle(id, randomCommand(random), T)
            .onErrorResume(PlayerRejected.class, e -> Mono.empty())
            .block();
      }
      long version = host.get(id).block().version();
      if (version >= 7) {
        // Snapshots are written after the reply: wait for the newest one due.
        long due = version / 7 * 7;
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> store.load(id).block().snapshot().map(s -> s.version() == due).orElse(false));
      }
      PlayerState replayed = Player.replay(PlayerState.initial(id), history(store, id));
      var recovered = instance(every7).get(id).block();
      assertThat(recovered.state()).isEqualTo(replayed);
      assertThat(recovered.version()).isEqualTo(version);
    }
  }
}
