package dev.citadel.eventstore;

import dev.citadel.eventstore.internal.AppendStatement;
import dev.citadel.eventstore.internal.GroupCommitter;
import dev.citadel.eventstore.internal.RunningAppends;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.NoTransactionException;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * {@link EventStore} on PostgreSQL through R2DBC. Run {@link EventStoreSchema} first.
 *
 * <p>One unit on purpose (over 300 lines): the SQL of one journal, each statement beside the method
 * that runs it; the append path's statement and group commit are apart already ({@code
 * internal.AppendStatement}, {@code internal.GroupCommitter}).
 */
public final class PostgresEventStore implements EventStore {

  private static final String LOAD_SQL =
      """
      WITH snap AS (
        SELECT seq, aggregate_type, snapshot_type, payload, recorded_at
        FROM snapshots WHERE aggregate_id = $1 ORDER BY seq DESC LIMIT 1
      )
      SELECT 0 AS part, seq, aggregate_type, snapshot_type AS type, payload, recorded_at,
             0::bigint AS global_position
      FROM snap
      UNION ALL
      SELECT 1, e.seq, e.aggregate_type, e.event_type, e.payload, e.recorded_at, e.global_position
      FROM events e
      WHERE e.aggregate_id = $1 AND e.seq > COALESCE((SELECT seq FROM snap), 0)
      ORDER BY part, seq
      """;

  private static final String READ_STREAM_SQL =
      """
      SELECT aggregate_type, seq, event_type AS type, payload, recorded_at, global_position
      FROM events WHERE aggregate_id = $1 AND seq > $2 ORDER BY seq
      """;

  // LATERAL: each stream read by the index from its own sequence number, whatever the planner
  // believes of the table's size. As a plain join, a few dozen streams against statistics taken
  // while the journal was small made it a hash join over the whole table (seen 2026-12-06: 233
  // full scans of the events table in 10 s of gifts once commits read their players together).
  static final String READ_STREAMS_SQL =
      """
      SELECT e.aggregate_id, e.aggregate_type, e.seq, e.event_type AS type, e.payload,
             e.recorded_at, e.global_position
      FROM unnest($1::text[], $2::bigint[]) AS q(aggregate_id, after_seq)
      CROSS JOIN LATERAL (
        SELECT * FROM events ev
        WHERE ev.aggregate_id = q.aggregate_id AND ev.seq > q.after_seq
        OFFSET 0
      ) e
      ORDER BY e.aggregate_id, e.seq
      """;

  private static final String READ_HEADS_SQL =
      """
      SELECT aggregate_id, aggregate_type, seq, event_type AS type, payload, recorded_at,
             global_position
      FROM events WHERE aggregate_id = ANY($1::text[]) AND seq <= $2 ORDER BY aggregate_id, seq
      """;

  private static final String VERSIONS_SQL =
      "SELECT aggregate_id, version FROM streams WHERE aggregate_id = ANY($1::text[])";

  // Only at a version the journal holds: a copy that got ahead of the store (it never should)
  // cannot make its state permanent through a snapshot.
  private static final String SAVE_SNAPSHOT_SQL =
      """
      INSERT INTO snapshots (aggregate_id, seq, aggregate_type, snapshot_type, payload, recorded_at)
      SELECT $1, $2, $3, $4, $5, $6
      WHERE EXISTS (SELECT 1 FROM streams WHERE aggregate_id = $1 AND version >= $2)
      ON CONFLICT (aggregate_id, seq) DO NOTHING
      """;

  private static final String SETTLE_SQL =
      "SELECT version FROM streams WHERE aggregate_id = $1 FOR SHARE";

  private static final String FIND_KEY_SQL =
      """
      SELECT fingerprint, first_seq, last_seq, recorded_at FROM idempotency_keys
      WHERE aggregate_id = $1 AND idem_key = $2
      """;

  private static final String FIRST_VERSION_SQL =
      """
      SELECT s.aggregate_id FROM streams s
      JOIN events e ON e.aggregate_id = s.aggregate_id AND e.seq = 1
      WHERE s.aggregate_type = $1 AND s.version = 1 AND e.event_type = $2 AND e.recorded_at < $3
      ORDER BY e.recorded_at
      LIMIT $4
      """;

  // A batch at a time: a backlog of millions of keys in one statement would run past the
  // statement timeout (Connections) every time, and never be forgotten.
  private static final String FORGET_KEYS_SQL =
      """
      DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
        SELECT ctid FROM idempotency_keys WHERE recorded_at < $1 LIMIT $2))
      """;

  static final int FORGET_KEYS_BATCH = 10_000;

  // Keeps the newest K snapshots; deletes events up to the oldest kept one, but only those every
  // named outbox has published (when no outbox is named, $3 is null and that check is skipped).
  private static final String RETENTION_SQL =
      """
      WITH kept AS (
        SELECT seq FROM snapshots WHERE aggregate_id = $1 ORDER BY seq DESC LIMIT $2
      ),
      oldest AS (SELECT min(seq) AS seq FROM kept),
      dropped_snapshots AS (
        DELETE FROM snapshots
        WHERE aggregate_id = $1 AND seq < (SELECT seq FROM oldest)
        RETURNING 1
      )
      DELETE FROM events e
      WHERE e.aggregate_id = $1
        AND e.seq <= (SELECT seq FROM oldest)
        AND ($3::text IS NULL OR EXISTS (
              SELECT 1 FROM outbox_checkpoints c
              WHERE c.name = $3 AND (e.tx_id, e.global_position) <= (c.last_tx_id, c.last_position)))
      """;

  private final ConnectionFactory connections;
  private final DatabaseClient db;
  private final TransactionalOperator tx;
  private final EventStoreOptions options;
  private final GroupCommitter committer;
  private final RunningAppends runningAppends;

  public PostgresEventStore(ConnectionFactory connections, EventStoreOptions options) {
    this.connections = connections;
    this.db = DatabaseClient.create(connections);
    this.tx = TransactionalOperator.create(new R2dbcTransactionManager(connections));
    this.options = options;
    this.committer =
        new GroupCommitter(
            db,
            options.maxBatchEvents(),
            options.maxConcurrentBatches(),
            options.maxQueuedAppends());
    this.runningAppends = new RunningAppends(db);
  }

  public EventStoreOptions options() {
    return options;
  }

  @Override
  public Mono<Appended> append(AppendRequest request) {
    return committer.submit(request);
  }

  @Override
  public Mono<List<Appended>> appendAtomically(List<AppendRequest> requests) {
    if (requests.isEmpty()) {
      return Mono.just(List.of());
    }
    // Creating a stream beside others needs a transaction (an insert that met an existing stream
    // cannot be undone within the statement). Streams that exist (or one stream) are a group in the
    // next group-commit statement, written all or none, with no transaction of its own (one
    // statement is one transaction). Inside the caller's transaction, though, the append must
    // commit or roll back with the caller's other writes: it joins that transaction instead.
    boolean creates =
        requests.size() > 1 && requests.stream().anyMatch(r -> r.expectedVersion() == 0);
    return callersTransaction()
        .flatMap(
            joined ->
                joined || creates
                    ? inTransaction(requests, joined)
                    : committer.submitAll(requests));
  }

  /**
   * Whether the subscriber runs in a transaction on a connection of this store's pool: the
   * statement would run on it (DatabaseClient takes it), so it joins.
   */
  private Mono<Boolean> callersTransaction() {
    return TransactionSynchronizationManager.forCurrentTransaction()
        .map(sync -> sync.isActualTransactionActive() && sync.hasResource(connections))
        .onErrorReturn(NoTransactionException.class, false);
  }

  /**
   * In a transaction (the caller's when {@code joined}, else one of its own), rolled back unless
   * every stream is written.
   */
  private Mono<List<Appended>> inTransaction(List<AppendRequest> requests, boolean joined) {
    Mono<List<Appended>> all =
        Mono.defer(() -> AppendStatement.execute(db, requests))
            .map(AppendStatement.Result::written)
            .flatMap(
                accepted -> {
                  List<Appended> result = new ArrayList<>();
                  for (AppendRequest r : requests) {
                    if (!accepted.contains(r.aggregateId())) {
                      // Raising inside the transaction rolls back the other streams' events.
                      return Mono.error(
                          new ConcurrencyConflict(r.aggregateId(), r.expectedVersion()));
                    }
                    result.add(new Appended(r.aggregateId(), r.newVersion()));
                  }
                  return Mono.just(result);
                });
    // A deadlock rolls the whole transaction back: nothing was written, so it runs again; but not
    // inside the caller's transaction, which the deadlock aborted as a whole: the caller retries.
    Mono<List<Appended>> once = all.as(tx::transactional);
    return (joined
            ? once
            : once.retryWhen(
                Retry.backoff(3, Duration.ofMillis(5)).filter(AppendStatement::isRetryable)))
        .onErrorMap(StoreBusy::ifNeverSent);
  }

  @Override
  public Mono<LoadedStream> load(String aggregateId) {
    return db.sql(LOAD_SQL)
        .bind(0, aggregateId)
        .map(
            row -> {
              boolean snapshot = row.get("part", Integer.class) == 0;
              return snapshot
                  ? (Object)
                      new Snapshot(
                          row.get("aggregate_type", String.class),
                          aggregateId,
                          row.get("seq", Long.class),
                          row.get("type", String.class),
                          bytes(row),
                          instant(row))
                  : event(aggregateId, row);
            })
        .all()
        .collectList()
        .map(rows -> assemble(aggregateId, rows));
  }

  private static LoadedStream assemble(String aggregateId, List<Object> rows) {
    Optional<Snapshot> snapshot = Optional.empty();
    List<StoredEvent> events = new ArrayList<>(rows.size());
    for (Object row : rows) {
      if (row instanceof Snapshot s) {
        snapshot = Optional.of(s);
      } else {
        events.add((StoredEvent) row);
      }
    }
    long version =
        events.isEmpty()
            ? snapshot.map(Snapshot::version).orElse(0L)
            : events.get(events.size() - 1).seq();
    return new LoadedStream(aggregateId, snapshot, List.copyOf(events), version);
  }

  @Override
  public Flux<StoredEvent> readStream(String aggregateId) {
    return readStream(aggregateId, 0);
  }

  @Override
  public Flux<StoredEvent> readStream(String aggregateId, long afterSeq) {
    return db.sql(READ_STREAM_SQL)
        .bind(0, aggregateId)
        .bind(1, afterSeq)
        .map(row -> event(aggregateId, row))
        .all();
  }

  @Override
  public Flux<StoredEvent> readStreams(Map<String, Long> afterSeq) {
    if (afterSeq.isEmpty()) {
      return Flux.empty();
    }
    String[] ids = new String[afterSeq.size()];
    Long[] after = new Long[afterSeq.size()];
    int i = 0;
    for (Map.Entry<String, Long> e : afterSeq.entrySet()) {
      ids[i] = e.getKey();
      after[i++] = e.getValue();
    }
    return db.sql(READ_STREAMS_SQL)
        .bind(0, ids)
        .bind(1, after)
        .map(row -> event(row.get("aggregate_id", String.class), row))
        .all();
  }

  @Override
  public Flux<StoredEvent> readSettled(String aggregateId, long afterSeq) {
    Flux<StoredEvent> settledThenRead =
        db.sql(SETTLE_SQL)
            .bind(0, aggregateId)
            .fetch()
            .all()
            .thenMany(readStream(aggregateId, afterSeq));
    return runningAppends.ended().thenMany(settledThenRead.as(tx::transactional));
  }

  @Override
  public Flux<StoredEvent> readStreamHeads(Collection<String> aggregateIds, long maxSeq) {
    if (aggregateIds.isEmpty()) {
      return Flux.empty();
    }
    return db.sql(READ_HEADS_SQL)
        .bind(0, aggregateIds.toArray(String[]::new))
        .bind(1, maxSeq)
        .map(row -> event(row.get("aggregate_id", String.class), row))
        .all();
  }

  @Override
  public Mono<Map<String, Long>> versions(Collection<String> aggregateIds) {
    if (aggregateIds.isEmpty()) {
      return Mono.just(Map.of());
    }
    return db.sql(VERSIONS_SQL)
        .bind(0, aggregateIds.stream().distinct().toArray(String[]::new))
        .map(row -> Map.entry(row.get(0, String.class), row.get(1, Long.class)))
        .all()
        .collectMap(Map.Entry::getKey, Map.Entry::getValue);
  }

  @Override
  public Mono<Void> saveSnapshot(Snapshot snapshot) {
    SnapshotPolicy policy = options.policyFor(snapshot.aggregateType());
    Mono<Void> save =
        db.sql(SAVE_SNAPSHOT_SQL)
            .bind(0, snapshot.aggregateId())
            .bind(1, snapshot.version())
            .bind(2, snapshot.aggregateType())
            .bind(3, snapshot.type())
            .bind(4, ByteBuffer.wrap(snapshot.payload()))
            .bind(5, OffsetDateTime.ofInstant(snapshot.recordedAt(), java.time.ZoneOffset.UTC))
            .then();
    return policy.retention() ? save.then(applyRetention(snapshot.aggregateId(), policy)) : save;
  }

  /**
   * First waits for any append to the stream still committing (its row lock), then reads the key in
   * a statement of its own (a fresh snapshot): a key not found is not there, not merely not visible
   * yet.
   */
  @Override
  public Mono<KeyRecord> findKey(String aggregateId, String key) {
    Mono<KeyRecord> settledThenRead =
        db.sql(SETTLE_SQL).bind(0, aggregateId).fetch().all().then(read(aggregateId, key));
    return settledThenRead.as(tx::transactional);
  }

  /**
   * {@link #findKey}, after every append statement running now has ended: one whose reply was lost
   * may still be waiting for another stream's row lock, and commit after a lookup that waited only
   * for this stream's row.
   */
  @Override
  public Mono<KeyRecord> findKeyAfterFailure(String aggregateId, String key) {
    return runningAppends.ended().then(findKey(aggregateId, key));
  }

  private Mono<KeyRecord> read(String aggregateId, String key) {
    return db.sql(FIND_KEY_SQL)
        .bind(0, aggregateId)
        .bind(1, key)
        .map(
            row ->
                new KeyRecord(
                    aggregateId,
                    key,
                    row.get("fingerprint", String.class),
                    row.get("first_seq", Long.class),
                    row.get("last_seq", Long.class),
                    instant(row)))
        .one();
  }

  @Override
  public Mono<Long> forgetKeys(Instant before) {
    return forgetKeys(before, FORGET_KEYS_BATCH);
  }

  /** Batches of {@code batch} keys, one after the other, until one comes back short. */
  Mono<Long> forgetKeys(Instant before, int batch) {
    Mono<Long> one =
        db.sql(FORGET_KEYS_SQL)
            .bind(0, OffsetDateTime.ofInstant(before, java.time.ZoneOffset.UTC))
            .bind(1, batch)
            .fetch()
            .rowsUpdated();
    return one.expand(n -> n < batch ? Mono.empty() : one).reduce(0L, Long::sum);
  }

  /**
   * Streams of {@code aggregateType} that never moved past their first event, of type {@code
   * firstEventType} and recorded before {@code before}, oldest first (a sweep of games placed and
   * never ended, say).
   */
  public Flux<String> stillAtFirstEvent(
      String aggregateType, String firstEventType, Instant before, int limit) {
    return db.sql(FIRST_VERSION_SQL)
        .bind(0, aggregateType)
        .bind(1, firstEventType)
        .bind(2, OffsetDateTime.ofInstant(before, java.time.ZoneOffset.UTC))
        .bind(3, limit)
        .map(row -> row.get("aggregate_id", String.class))
        .all();
  }

  /**
   * The ids of the streams of {@code aggregateType} after {@code after} (by id), at most {@code
   * limit}: every stream of a type, a page at a time (a projection rebuilt from the journal).
   */
  public Flux<String> streamIds(String aggregateType, String after, int limit) {
    return db.sql(STREAM_IDS_SQL)
        .bind(0, aggregateType)
        .bind(1, after)
        .bind(2, limit)
        .map(row -> row.get("aggregate_id", String.class))
        .all();
  }

  private static final String STREAM_IDS_SQL =
      """
      SELECT aggregate_id FROM streams WHERE aggregate_type = $1 AND aggregate_id > $2
      ORDER BY aggregate_id LIMIT $3
      """;

  /** Deletes what the policy allows for one stream; returns how many events went. */
  public Mono<Void> applyRetention(String aggregateId, SnapshotPolicy policy) {
    var spec = db.sql(RETENTION_SQL).bind(0, aggregateId).bind(1, policy.keepSnapshots());
    spec =
        options.outboxName().isPresent()
            ? spec.bind(2, options.outboxName().get())
            : spec.bindNull(2, String.class);
    return spec.then();
  }

  private static StoredEvent event(String aggregateId, Readable row) {
    return new StoredEvent(
        row.get("aggregate_type", String.class),
        aggregateId,
        row.get("seq", Long.class),
        row.get("type", String.class),
        bytes(row),
        instant(row),
        row.get("global_position", Long.class));
  }

  private static byte[] bytes(Readable row) {
    ByteBuffer buffer = row.get("payload", ByteBuffer.class);
    byte[] bytes = new byte[buffer.remaining()];
    buffer.get(bytes);
    return bytes;
  }

  private static Instant instant(Readable row) {
    return row.get("recorded_at", OffsetDateTime.class).toInstant();
  }
}
