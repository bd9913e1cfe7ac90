package dev.citadel.eventstore;

import static dev.citadel.eventstore.StoreFixture.amount;
import static dev.citadel.eventstore.StoreFixture.amounts;
import static dev.citadel.eventstore.StoreFixture.append;
import static dev.citadel.eventstore.StoreFixture.newId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.internal.AppendStatement;
import dev.citadel.infra.junit.CitadelInfra;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

@CitadelInfra
class PostgresEventStoreTest {
  static StoreFixture fixture;
  static PostgresEventStore store;

  @BeforeAll
  static void setUp() {
    fixture = new StoreFixture("eventstore_test");
    store = fixture.store(EventStoreOptions.defaults());
  }

  @Test
  void append_with_the_expected_version_succeeds_and_a_stale_writer_gets_a_conflict() {
    String id = newId();
    StepVerifier.create(store.append(append(id, 0, 5, 7)))
        .expectNext(new Appended(id, 2))
        .verifyComplete();

    StepVerifier.create(store.append(append(id, 0, 1)))
        .expectError(ConcurrencyConflict.class)
        .verify();
    StepVerifier.create(store.append(append(id, 1, 1)))
        .expectError(ConcurrencyConflict.class)
        .verify();
    StepVerifier.create(store.append(append(id, 3, 1)))
        .expectError(ConcurrencyConflict.class)
        .verify();
    StepVerifier.create(store.append(append(id, 2, 11)))
        .expectNext(new Appended(id, 3))
        .verifyComplete();

    List<StoredEvent> events = store.readStream(id).collectList().block();
    assertThat(events).extracting(StoredEvent::seq).containsExactly(1L, 2L, 3L);
    assertThat(amounts(events)).containsExactly(5L, 7L, 11L);
    assertThat(events).allSatisfy(e -> assertThat(e.type()).isEqualTo("test.Added"));
  }

  @Test
  void multi_stream_append_is_all_or_nothing() {
    String a = newId();
    String b = newId();
    store.append(append(a, 0, 1)).block();
    store.append(append(b, 0, 1)).block();

    // b is stale (expects 0, is at 1): nothing may be written, not even a's events.
    StepVerifier.create(store.appendAtomically(List.of(append(a, 1, 10), append(b, 0, 20))))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(ConcurrencyConflict.class)
                    .extracting(c -> ((ConcurrencyConflict) c).aggregateId())
                    .isEqualTo(b))
        .verify();
    assertThat(store.load(a).block().version()).isEqualTo(1);
    assertThat(store.load(b).block().version()).isEqualTo(1);

    StepVerifier.create(store.appendAtomically(List.of(append(a, 1, 10), append(b, 1, 20))))
        .expectNext(List.of(new Appended(a, 2), new Appended(b, 2)))
        .verifyComplete();
    assertThat(amounts(store.readStream(a).collectList().block())).containsExactly(1L, 10L);
    assertThat(amounts(store.readStream(b).collectList().block())).containsExactly(1L, 20L);
  }

  @Test
  void atomic_appends_in_one_statement_are_each_written_whole_or_not_at_all() {
    String a1 = newId();
    String a2 = newId();
    String b1 = newId();
    String b2 = newId();
    String k1 = newId();
    String k2 = newId();
    String created = newId();
    for (String id : List.of(a1, a2, b1, b2, k1, k2)) {
      store.append(append(id, 0, 1)).block();
    }
    IdempotencyKey key = new IdempotencyKey("tx:one", "f");
    store.append(append(k1, 1, 2).withKey(key)).block();

    // One statement, as group commit sends it: four groups, each decided on its own.
    AppendStatement.Result result =
        AppendStatement.executeGroups(
                org.springframework.r2dbc.core.DatabaseClient.create(fixture.pool),
                List.of(
                    List.of(append(a1, 1, 10), append(a2, 1, 20)), // whole
                    List.of(append(b1, 1, 30), append(b2, 2, 40)), // b2 is not at 2
                    List.of(append(created, 0, 50)), // a new stream, alone
                    List.of(append(k1, 2, 60).withKey(key), append(k2, 1, 70).withKey(key))))
            .block();

    assertThat(result.written()).containsExactlyInAnyOrder(a1, a2, created);
    // At their expected version, not written: their group was not whole.
    assertThat(result.ready()).containsExactlyInAnyOrder(b1, k2);
    assertThat(amounts(store.readStream(a1).collectList().block())).containsExactly(1L, 10L);
    assertThat(amounts(store.readStream(a2).collectList().block())).containsExactly(1L, 20L);
    assertThat(amounts(store.readStream(b1).collectList().block())).containsExactly(1L);
    assertThat(amounts(store.readStream(b2).collectList().block())).containsExactly(1L);
    assertThat(amounts(store.readStream(created).collectList().block())).containsExactly(50L);
    assertThat(amounts(store.readStream(k1).collectList().block())).containsExactly(1L, 2L);
    assertThat(amounts(store.readStream(k2).collectList().block())).containsExactly(1L);
    assertThat(store.findKey(k2, "tx:one").blockOptional()).isEmpty();
    assertThat(store.versions(List.of(b1, b2, k1, k2)).block())
        .containsEntry(b1, 1L)
        .containsEntry(b2, 1L)
        .containsEntry(k1, 2L)
        .containsEntry(k2, 1L);
  }

  @Test
  void an_atomic_append_inside_the_callers_transaction_rolls_back_with_it() {
    String a = newId();
    String b = newId();
    String created = newId();
    store.append(append(a, 0, 1)).block();
    store.append(append(b, 0, 1)).block();
    TransactionalOperator callers =
        TransactionalOperator.create(
            new org.springframework.r2dbc.connection.R2dbcTransactionManager(fixture.pool));
    // Existing streams (which alone would go through group commit) and a stream created alone:
    // the caller's transaction fails after the appends, so none of them may stay.
    for (List<AppendRequest> appends :
        List.of(List.of(append(a, 1, 10), append(b, 1, 20)), List.of(append(created, 0, 5)))) {
      StepVerifier.create(
              store
                  .appendAtomically(appends)
                  .then(Mono.error(new IllegalStateException("the caller's next write failed")))
                  .as(callers::transactional))
          .expectErrorMessage("the caller's next write failed")
          .verify();
    }
    assertThat(store.versions(List.of(a, b, created)).block())
        .containsEntry(a, 1L)
        .containsEntry(b, 1L)
        .doesNotContainKey(created);
    // And it commits with it.
    StepVerifier.create(
            store
                .appendAtomically(List.of(append(a, 1, 10), append(b, 1, 20)))
                .as(callers::transactional))
        .expectNextCount(1)
        .verifyComplete();
    assertThat(store.versions(List.of(a, b)).block()).containsEntry(a, 2L).containsEntry(b, 2L);
    // A transaction context with no transaction (SUPPORTS, none running) has nothing to join or
    // roll back: the append stands on its own.
    var supports = new org.springframework.transaction.support.DefaultTransactionDefinition();
    supports.setPropagationBehavior(
        org.springframework.transaction.TransactionDefinition.PROPAGATION_SUPPORTS);
    TransactionalOperator none =
        TransactionalOperator.create(
            new org.springframework.r2dbc.connection.R2dbcTransactionManager(fixture.pool),
            supports);
    StepVerifier.create(
            org.springframework.r2dbc.core.DatabaseClient.create(fixture.pool)
                .sql("SELECT 1") // binds a connection to the scope, with no transaction on it
                .then()
                .then(store.appendAtomically(List.of(append(a, 2, 30), append(b, 2, 40))))
                .then(Mono.error(new IllegalStateException("no transaction to undo it")))
                .as(none::transactional))
        .expectErrorMessage("no transaction to undo it")
        .verify();
    assertThat(store.versions(List.of(a, b)).block()).containsEntry(a, 3L).containsEntry(b, 3L);
  }

  @Test
  void an_atomic_append_that_waited_for_a_stream_another_writer_moved_writes_none_of_its_streams()
      throws Exception {
    String a = newId();
    String b = newId();
    store.append(append(a, 0, 1)).block();
    store.append(append(b, 0, 1)).block();
    try (java.sql.Connection other = jdbc();
        java.sql.Connection watcher = jdbc()) {
      other.setAutoCommit(false);
      int otherPid = backendPid(other);
      // Another writer moves b to 2 and holds its row until it commits.
      try (var move =
              other.prepareStatement("UPDATE streams SET version = 2 WHERE aggregate_id = ?");
          var event =
              other.prepareStatement(
                  "INSERT INTO events (aggregate_id, seq, aggregate_type, event_type, payload,"
                      + " recorded_at) VALUES (?, 2, 'counter', 'test.Added', ?, now())")) {
        move.setString(1, b);
        move.executeUpdate();
        event.setString(1, b);
        event.setBytes(2, StoreFixture.add(2).payload());
        event.executeUpdate();
      }
      var atomic = store.appendAtomically(List.of(append(a, 1, 10), append(b, 1, 20))).toFuture();
      // The group's statement read b at 1 and now waits for its row.
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(10))
          .until(() -> blockedBy(watcher, otherPid) > 0);
      other.commit();
      assertThat(atomic)
          .failsWithin(java.time.Duration.ofSeconds(10))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .havingCause()
          .isInstanceOf(ConcurrencyConflict.class)
          .extracting(c -> ((ConcurrencyConflict) c).aggregateId())
          .isEqualTo(b);
    }
    assertThat(amounts(store.readStream(a).collectList().block())).containsExactly(1L);
    assertThat(amounts(store.readStream(b).collectList().block())).containsExactly(1L, 2L);
  }

  /**
   * An append whose reply was lost may still be running, waiting for another stream's row before it
   * locks the one looked up: a lookup then must wait for it to end, not answer "not written" and
   * see it commit a moment later (a caller without a key would send it again: twice).
   */
  @Test
  void a_lookup_waits_for_an_append_still_waiting_for_another_streams_row() throws Exception {
    // Rows are locked in id order: the append takes "a-" first, then "z-", the stream looked up.
    String first = "a-" + newId();
    String looked = "z-" + newId();
    store.append(append(first, 0, 1)).block();
    store.append(append(looked, 0, 1)).block();
    try (java.sql.Connection other = jdbc();
        java.sql.Connection watcher = jdbc()) {
      other.setAutoCommit(false);
      int otherPid = backendPid(other);
      try (var lock =
          other.prepareStatement("SELECT 1 FROM streams WHERE aggregate_id = ? FOR UPDATE")) {
        lock.setString(1, first);
        lock.executeQuery().close();
      }
      var keyed = append(looked, 1, 20).withKey(IdempotencyKey.of("k-late", "f"));
      var append = store.appendAtomically(List.of(append(first, 1, 10), keyed)).toFuture();
      org.awaitility.Awaitility.await()
          .atMost(java.time.Duration.ofSeconds(10))
          .until(() -> blockedBy(watcher, otherPid) > 0);

      // The lookup begins while the append waits; the append ends (and commits) after it began.
      var lookup = store.findKeyAfterFailure(looked, "k-late").toFuture();
      org.awaitility.Awaitility.await()
          .during(java.time.Duration.ofMillis(300))
          .atMost(java.time.Duration.ofSeconds(5))
          .until(() -> !lookup.isDone());
      other.commit();
      assertThat(append).succeedsWithin(java.time.Duration.ofSeconds(10));
      assertThat(lookup.get(10, java.util.concurrent.TimeUnit.SECONDS))
          .as("found: the append that was running when the lookup began is waited for")
          .isNotNull();
    }
  }

  /** A plain JDBC session on the test database (another writer, or a watcher of the sessions). */
  private static java.sql.Connection jdbc() throws java.sql.SQLException {
    return java.sql.DriverManager.getConnection(
        fixture.endpoint.jdbcUrl(), fixture.endpoint.username(), fixture.endpoint.password());
  }

  private static int backendPid(java.sql.Connection c) throws java.sql.SQLException {
    try (var pid = c.createStatement().executeQuery("SELECT pg_backend_pid()")) {
      pid.next();
      return pid.getInt(1);
    }
  }

  /** Sessions waiting for a lock the session {@code pid} holds. */
  private static int blockedBy(java.sql.Connection c, int pid) throws java.sql.SQLException {
    try (var q =
        c.prepareStatement(
            "SELECT count(*) FROM pg_stat_activity WHERE ? = ANY(pg_blocking_pids(pid))")) {
      q.setInt(1, pid);
      try (var rs = q.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    }
  }

  @Test
  void an_atomic_append_racing_single_appends_on_its_streams_is_never_written_in_part() {
    String a = newId();
    String b = newId();
    store.append(append(a, 0, 1)).block();
    store.append(append(b, 0, 1)).block();
    PostgresEventStore other = fixture.store(EventStoreOptions.defaults());
    int atomicWins = 0;
    int singleWins = 0;
    for (int round = 0; round < 50; round++) {
      long va = store.versions(List.of(a)).block().get(a);
      long vb = store.versions(List.of(b)).block().get(b);
      // Both at once, through two stores' group commit: the single append to b and the atomic
      // one to a and b cannot both win; the atomic one wins on both streams or on neither.
      List<String> won =
          Flux.merge(
                  store
                      .appendAtomically(List.of(append(a, va, 100), append(b, vb, 100)))
                      .map(x -> "atomic")
                      .onErrorResume(
                          ConcurrencyConflict.class,
                          e -> {
                            assertThat(e.aggregateId()).as("the stale stream").isEqualTo(b);
                            return Mono.empty();
                          }),
                  (round % 2 == 0 ? store : other)
                      .append(append(b, vb, 1))
                      .map(x -> "single")
                      .onErrorResume(ConcurrencyConflict.class, e -> Mono.empty()))
              .collectList()
              .block();
      assertThat(won).hasSize(1);
      if (won.contains("atomic")) {
        atomicWins++;
      } else {
        singleWins++;
      }
    }
    List<Long> aEvents = amounts(store.readStream(a).collectList().block());
    List<Long> bEvents = amounts(store.readStream(b).collectList().block());
    assertThat(aEvents).hasSize(1 + atomicWins).allMatch(x -> x == 1L || x == 100L);
    assertThat(bEvents.stream().filter(x -> x == 100L)).hasSize(atomicWins);
    assertThat(bEvents.stream().filter(x -> x == 1L)).hasSize(1 + singleWins);
  }

  @Test
  void stream_heads_of_many_streams_come_back_in_one_query() {
    String a = newId();
    String b = newId();
    String missing = newId();
    store.append(append(a, 0, 1, 2, 3)).block();
    store.append(append(b, 0, 9)).block();

    List<StoredEvent> heads =
        store.readStreamHeads(List.of(b, missing, a), 1).collectList().block();

    assertThat(heads).extracting(StoredEvent::aggregateId).containsExactlyInAnyOrder(a, b);
    assertThat(heads).allSatisfy(e -> assertThat(e.seq()).isEqualTo(1));
    assertThat(store.readStreamHeads(List.of(a), 2).collectList().block()).hasSize(2);
    assertThat(store.readStreamHeads(List.of(), 1).collectList().block()).isEmpty();
  }

  @Test
  void many_streams_are_read_each_after_its_own_sequence_in_one_query() {
    String a = newId();
    String b = newId();
    String missing = newId();
    store.append(append(a, 0, 1, 2, 3)).block();
    store.append(append(b, 0, 9, 8)).block();

    List<StoredEvent> read =
        store.readStreams(java.util.Map.of(a, 1L, b, 0L, missing, 0L)).collectList().block();

    assertThat(read)
        .extracting(e -> e.aggregateId() + "#" + e.seq())
        .containsExactlyElementsOf(
            a.compareTo(b) < 0
                ? List.of(a + "#2", a + "#3", b + "#1", b + "#2")
                : List.of(b + "#1", b + "#2", a + "#2", a + "#3"));
    assertThat(store.readStreams(java.util.Map.of(a, 3L)).collectList().block()).isEmpty();
    assertThat(store.readStreams(java.util.Map.of()).collectList().block()).isEmpty();
  }

  @Test
  void versions_of_many_streams_name_only_those_that_exist() {
    String a = newId();
    String b = newId();
    String missing = newId();
    store.append(append(a, 0, 1, 2, 3)).block();
    store.append(append(b, 0, 9)).block();

    assertThat(store.versions(List.of(a, missing, b, a)).block())
        .containsExactlyInAnyOrderEntriesOf(java.util.Map.of(a, 3L, b, 1L));
    assertThat(store.versions(List.of(missing)).block()).isEmpty();
    assertThat(store.versions(List.of()).block()).isEmpty();
  }

  @Test
  void group_commit_decides_each_append_on_its_own() {
    int streams = 300;
    List<String> ids = IntStream.range(0, streams).mapToObj(i -> newId()).toList();
    Flux.fromIterable(ids).flatMap(id -> store.append(append(id, 0, 1)), 64).blockLast();

    // Concurrently: every stream gets one fresh append and one stale one.
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger conflicts = new AtomicInteger();
    Flux.fromIterable(ids)
        .flatMap(
            id ->
                Flux.just(append(id, 1, 2), append(id, 0, 99))
                    .flatMap(
                        r ->
                            store
                                .append(r)
                                .doOnNext(x -> ok.incrementAndGet())
                                .onErrorResume(
                                    ConcurrencyConflict.class,
                                    e -> {
                                      conflicts.incrementAndGet();
                                      return Mono.empty();
                                    })),
            256)
        .blockLast();

    assertThat(ok.get()).isEqualTo(streams);
    assertThat(conflicts.get()).isEqualTo(streams);
    for (String id : ids) {
      assertThat(amounts(store.readStream(id).collectList().block())).containsExactly(1L, 2L);
    }
  }

  @Test
  void appends_past_the_queue_bound_are_refused_at_once_and_never_written() {
    PostgresEventStore bounded =
        fixture.store(EventStoreOptions.defaults().withMaxQueuedAppends(5));
    List<String> ids = IntStream.range(0, 500).mapToObj(i -> newId()).toList();
    List<String> written = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> refused = new java.util.concurrent.CopyOnWriteArrayList<>();
    // All at once: while the first statements run, the rest queue, and only 5 may wait.
    Flux.fromIterable(ids)
        .flatMap(
            id ->
                bounded
                    .append(append(id, 0, 1))
                    .doOnNext(a -> written.add(id))
                    .onErrorResume(
                        StoreBusy.class,
                        e -> {
                          refused.add(id);
                          return Mono.empty();
                        }),
            500)
        .blockLast();

    assertThat(written.size() + refused.size()).isEqualTo(ids.size());
    assertThat(refused).as("refused past the bound").isNotEmpty();
    assertThat(written).as("some got through").isNotEmpty();
    for (String id : refused) {
      assertThat(store.readStream(id).collectList().block()).as(id).isEmpty();
    }
    for (String id : written) {
      assertThat(amounts(store.readStream(id).collectList().block())).containsExactly(1L);
    }
    // The bound frees as the queue drains: a later append gets through.
    String later = refused.get(0);
    assertThat(bounded.append(append(later, 0, 7)).block()).isNotNull();
  }

  @Test
  void two_writers_racing_on_one_stream_never_both_win() {
    String id = newId();
    store.append(append(id, 0, 1)).block();
    PostgresEventStore other = fixture.store(EventStoreOptions.defaults());
    for (int round = 1; round <= 50; round++) {
      long expected = round;
      List<Boolean> wins =
          Flux.just(store, other)
              .flatMap(
                  s ->
                      s.append(append(id, expected, expected))
                          .map(x -> true)
                          .onErrorResume(ConcurrencyConflict.class, e -> Mono.just(false)))
              .collectList()
              .block();
      assertThat(wins).containsExactlyInAnyOrder(true, false);
    }
    List<StoredEvent> events = store.readStream(id).collectList().block();
    assertThat(events).extracting(StoredEvent::seq).doesNotHaveDuplicates().hasSize(51);
  }

  @Test
  void load_is_the_newest_snapshot_plus_only_later_events() {
    String id = newId();
    store.append(append(id, 0, 1, 2, 3)).block();
    store.saveSnapshot(snapshot(id, 3, 6)).block();
    store.append(append(id, 3, 4, 5)).block();

    LoadedStream loaded = store.load(id).block();

    assertThat(loaded.version()).isEqualTo(5);
    assertThat(loaded.snapshot()).get().extracting(Snapshot::version).isEqualTo(3L);
    assertThat(amount(loaded.snapshot().get().payload())).isEqualTo(6);
    assertThat(loaded.events()).extracting(StoredEvent::seq).containsExactly(4L, 5L);
    assertThat(store.load(newId()).block().exists()).isFalse();
  }

  /**
   * Property: for random append sequences, snapshot + tail folds to the same state as the full
   * history, with retention deleting what snapshots cover.
   */
  @Test
  void snapshot_plus_tail_equals_full_replay_for_random_sequences() {
    Random random = new Random(42);
    PostgresEventStore snapshotting =
        fixture.store(
            EventStoreOptions.defaults().withPolicy("counter", new SnapshotPolicy(7, true, 2)));
    for (int run = 0; run < 40; run++) {
      String id = newId();
      List<Long> all = new ArrayList<>();
      long version = 0;
      long state = 0;
      int appends = 1 + random.nextInt(25);
      for (int i = 0; i < appends; i++) {
        long[] amounts = random.longs(1 + random.nextInt(5), -50, 50).toArray();
        snapshotting.append(append(id, version, amounts)).block();
        long before = version;
        for (long n : amounts) {
          all.add(n);
          state += n;
        }
        version += amounts.length;
        if (snapshotting.options().policyFor("counter").due(before, version)) {
          snapshotting.saveSnapshot(snapshot(id, version, state)).block();
        }
      }

      LoadedStream loaded = snapshotting.load(id).block();
      long recovered = loaded.snapshot().map(s -> amount(s.payload())).orElse(0L);
      for (StoredEvent e : loaded.events()) {
        recovered += amount(e.payload());
      }
      assertThat(loaded.version()).isEqualTo(all.size());
      assertThat(recovered).isEqualTo(all.stream().mapToLong(Long::longValue).sum());
    }
  }

  @Test
  void retention_keeps_the_newest_snapshots_and_still_fences_stale_writers() {
    PostgresEventStore retaining =
        fixture.store(
            EventStoreOptions.defaults().withPolicy("counter", new SnapshotPolicy(10, true, 2)));
    String id = newId();
    long version = 0;
    for (int i = 0; i < 4; i++) {
      retaining.append(append(id, version, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)).block();
      version += 10;
      retaining.saveSnapshot(snapshot(id, version, version)).block();
    }
    // Snapshots 30 and 40 kept; events up to 30 deleted (no outbox to wait for here).
    assertThat(retaining.readStream(id).collectList().block())
        .extracting(StoredEvent::seq)
        .containsExactly(31L, 32L, 33L, 34L, 35L, 36L, 37L, 38L, 39L, 40L);
    assertThat(retaining.load(id).block().version()).isEqualTo(40);

    // A writer that last saw version 25 must still be refused although rows 26..30 are gone.
    StepVerifier.create(retaining.append(append(id, 25, 1)))
        .expectError(ConcurrencyConflict.class)
        .verify();
  }

  static Snapshot snapshot(String id, long version, long state) {
    return new Snapshot(
        "counter",
        id,
        version,
        "test.CounterState",
        ByteBuffer.allocate(8).putLong(state).array(),
        Instant.parse("2026-01-01T00:00:00Z"));
  }

  @Test
  void an_append_whose_key_the_stream_holds_is_not_written_and_the_key_can_be_looked_up() {
    String id = newId();
    IdempotencyKey key = new IdempotencyKey("reward:r1", "f1");
    StepVerifier.create(store.append(append(id, 0, 5).withKey(key)))
        .expectNext(new Appended(id, 1))
        .verifyComplete();
    // The same key again, even at the right version, writes nothing.
    StepVerifier.create(store.append(append(id, 1, 5).withKey(key)))
        .expectError(ConcurrencyConflict.class)
        .verify();
    StepVerifier.create(
            store.appendAtomically(List.of(append(id, 1, 5).withKey(key), append(newId(), 0, 1))))
        .expectError(ConcurrencyConflict.class)
        .verify();
    assertThat(amounts(store.readStream(id).collectList().block())).containsExactly(5L);
    KeyRecord found = store.findKey(id, "reward:r1").block();
    assertThat(found.fingerprint()).isEqualTo("f1");
    assertThat(found.firstSeq()).isEqualTo(1);
    assertThat(found.lastSeq()).isEqualTo(1);
    assertThat(store.findKey(id, "reward:other").blockOptional()).isEmpty();
    // Another key goes through; keys are per stream.
    StepVerifier.create(
            store.append(append(id, 1, 7, 8).withKey(new IdempotencyKey("reward:r2", "f2"))))
        .expectNext(new Appended(id, 3))
        .verifyComplete();
    assertThat(store.findKey(id, "reward:r2").block().lastSeq()).isEqualTo(3);
    String other = newId();
    StepVerifier.create(store.append(append(other, 0, 1).withKey(key)))
        .expectNext(new Appended(other, 1))
        .verifyComplete();
  }

  /** Ages {@code id}'s keys as if stored at {@code at}. */
  static void storedAt(String id, Instant at) {
    org.springframework.r2dbc.core.DatabaseClient.create(fixture.pool)
        .sql("UPDATE idempotency_keys SET recorded_at = $1 WHERE aggregate_id = $2")
        .bind(0, java.time.OffsetDateTime.ofInstant(at, java.time.ZoneOffset.UTC))
        .bind(1, id)
        .then()
        .block();
  }

  @Test
  void keys_are_forgotten_after_their_retention() {
    String id = newId();
    store.append(append(id, 0, 5).withKey(new IdempotencyKey("k-old", "f"))).block();
    storedAt(id, StoreFixture.T0.minus(java.time.Duration.ofDays(365)));
    assertThat(store.forgetKeys(StoreFixture.T0.minus(java.time.Duration.ofDays(364))).block())
        .isGreaterThanOrEqualTo(1);
    assertThat(store.findKey(id, "k-old").blockOptional()).isEmpty();
  }

  /**
   * A key ages from when it was stored, not from the request's time: a request applied days late (a
   * consumer stuck, a replay) kept its key for the whole retention. Aged by the request's time, it
   * went at the next sweep and the same request, delivered again, applied again.
   */
  @Test
  void a_key_ages_from_when_it_was_stored_not_from_the_requests_time() {
    String id = newId();
    Instant now = Instant.now();
    AppendRequest late = append(id, 0, 1);
    store
        .append(
            new AppendRequest(
                    late.aggregateType(),
                    id,
                    0,
                    late.events(),
                    now.minus(java.time.Duration.ofDays(8)))
                .withKey(new IdempotencyKey("k-late", "f")))
        .block();
    store.forgetKeys(now.minus(java.time.Duration.ofDays(7))).block();
    assertThat(store.findKey(id, "k-late").blockOptional()).isPresent();
  }

  /** In batches, each one statement of bounded time, until all are gone. */
  @Test
  void a_backlog_of_keys_is_forgotten_in_batches() {
    String id = newId();
    // A year before every other test's keys, so only these are old enough to go.
    Instant longAgo = StoreFixture.T0.minus(java.time.Duration.ofDays(365));
    for (int i = 0; i < 25; i++) {
      store.append(append(id, i, 1).withKey(new IdempotencyKey("k-" + i, "f"))).block();
    }
    storedAt(id, longAgo);
    assertThat(store.forgetKeys(longAgo.plusSeconds(100), 10).block()).isEqualTo(25);
    for (int i = 0; i < 25; i++) {
      assertThat(store.findKey(id, "k-" + i).blockOptional()).isEmpty();
    }
  }

  @Test
  void a_snapshot_beyond_the_stored_version_is_not_written() {
    String id = newId();
    store.append(append(id, 0, 1, 2)).block();
    store
        .saveSnapshot(
            new Snapshot("counter", id, 5, "test.Snapshot", new byte[] {1}, StoreFixture.T0))
        .block();
    assertThat(store.load(id).block().snapshot()).isEmpty();
    store
        .saveSnapshot(
            new Snapshot("counter", id, 2, "test.Snapshot", new byte[] {1}, StoreFixture.T0))
        .block();
    assertThat(store.load(id).block().snapshot()).isPresent();
  }
}
