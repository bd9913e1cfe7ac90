package dev.citadel.eventstore.outbox;

import com.google.protobuf.ByteString;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.spi.ConnectionFactory;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Tails the events table and publishes every committed event to Kafka at least once, in order per
 * aggregate, keeping its checkpoint in the database.
 *
 * <p>One round: in a transaction, lock this outbox's checkpoint row ({@code SKIP LOCKED}: another
 * instance publishing means this one waits its turn), read the next events in (tx_id,
 * global_position) order below the oldest running transaction, publish them with acks=all, move the
 * checkpoint, commit. A crash before the commit republishes the round: consumers dedupe by
 * (aggregate id, seq).
 */
public final class OutboxPublisher {
  private static final Logger log = LoggerFactory.getLogger(OutboxPublisher.class);

  private static final String REGISTER_SQL =
      "INSERT INTO outbox_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
  private static final String LOCK_SQL =
      """
      SELECT last_tx_id::text AS tx, last_position FROM outbox_checkpoints
      WHERE name = $1 FOR UPDATE SKIP LOCKED
      """;
  private static final String NEXT_SQL =
      """
      SELECT tx_id::text AS tx, global_position, aggregate_type, aggregate_id, seq, event_type,
             payload, recorded_at
      FROM events
      WHERE (tx_id, global_position) > ($1::text::xid8, $2)
        AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY tx_id, global_position
      LIMIT $3
      """;
  private static final String ADVANCE_SQL =
      """
      UPDATE outbox_checkpoints
      SET last_tx_id = $2::text::xid8, last_position = $3, updated_at = now()
      WHERE name = $1
      """;
  private static final String LAG_SQL =
      """
      SELECT COALESCE((SELECT max(global_position) FROM events), 0) - c.last_position AS lag
      FROM outbox_checkpoints c WHERE c.name = $1
      """;

  private record Checkpoint(String txId, long position) {}

  private record Row(Checkpoint at, String aggregateId, EventEnvelope envelope) {}

  private final DatabaseClient db;
  private final TransactionalOperator tx;
  private final MessagePublisher publisher;
  private final String name;
  private final String topic;
  private final int batchSize;
  private final Duration idlePoll;
  private final Counter published;
  private final AtomicLong lag = new AtomicLong();

  public OutboxPublisher(
      ConnectionFactory connections,
      MessagePublisher publisher,
      String name,
      String topic,
      int batchSize,
      Duration idlePoll,
      MeterRegistry meters) {
    this.db = DatabaseClient.create(connections);
    this.tx = TransactionalOperator.create(new R2dbcTransactionManager(connections));
    this.publisher = publisher;
    this.name = name;
    this.topic = topic;
    this.batchSize = batchSize;
    this.idlePoll = idlePoll;
    this.published =
        Counter.builder("citadel_outbox_published_events")
            .tag("outbox", name)
            .description("Events published to Kafka by the outbox")
            .register(meters);
    Gauge.builder("citadel_outbox_lag_events", lag, AtomicLong::get)
        .tag("outbox", name)
        .description("Events in the journal the outbox has not published yet (approximate)")
        .register(meters);
  }

  /** Creates this outbox's checkpoint row (at the very beginning) if it is new. */
  public Mono<Void> register() {
    return db.sql(REGISTER_SQL).bind(0, name).then();
  }

  /**
   * Publishes one round.
   *
   * @return how many events were published; 0 when there was nothing to do or another instance
   *     holds the checkpoint
   */
  public Mono<Integer> publishRound() {
    Mono<Integer> round =
        db.sql(LOCK_SQL)
            .bind(0, name)
            .map(r -> new Checkpoint(r.get("tx", String.class), r.get("last_position", Long.class)))
            .one()
            .flatMap(this::publishAfter)
            .defaultIfEmpty(0);
    return round.as(tx::transactional);
  }

  private Mono<Integer> publishAfter(Checkpoint from) {
    return db.sql(NEXT_SQL)
        .bind(0, from.txId())
        .bind(1, from.position())
        .bind(2, batchSize)
        .map(
            r -> {
              Checkpoint at =
                  new Checkpoint(r.get("tx", String.class), r.get("global_position", Long.class));
              ByteBuffer payload = r.get("payload", ByteBuffer.class);
              EventEnvelope envelope =
                  EventEnvelope.newBuilder()
                      .setAggregateType(r.get("aggregate_type", String.class))
                      .setAggregateId(r.get("aggregate_id", String.class))
                      .setSeq(r.get("seq", Long.class))
                      .setEventType(r.get("event_type", String.class))
                      .setPayload(ByteString.copyFrom(payload))
                      .setRecordedAtEpochMs(
                          r.get("recorded_at", OffsetDateTime.class).toInstant().toEpochMilli())
                      .setGlobalPosition(at.position())
                      .build();
              return new Row(at, envelope.getAggregateId(), envelope);
            })
        .all()
        .collectList()
        .flatMap(rows -> rows.isEmpty() ? Mono.just(0) : publish(rows));
  }

  private Mono<Integer> publish(List<Row> rows) {
    Flux<OutgoingMessage> messages =
        Flux.fromIterable(rows)
            .map(
                row ->
                    new OutgoingMessage(
                        topic,
                        row.aggregateId(),
                        row.envelope().toByteArray(),
                        Map.of(
                            "event-type", row.envelope().getEventType(),
                            "seq", Long.toString(row.envelope().getSeq()))));
    Checkpoint last = rows.get(rows.size() - 1).at();
    return publisher
        .publishAll(messages)
        .then(
            db.sql(ADVANCE_SQL).bind(0, name).bind(1, last.txId()).bind(2, last.position()).then())
        .doOnSuccess(v -> published.increment(rows.size()))
        .thenReturn(rows.size());
  }

  /** Refreshes the lag gauge. */
  public Mono<Long> measureLag() {
    return db.sql(LAG_SQL)
        .bind(0, name)
        .map(r -> r.get("lag", Long.class))
        .one()
        .defaultIfEmpty(0L)
        .doOnNext(lag::set);
  }

  /** Publishes until disposed: rounds back to back while there is work, then polls. */
  public Disposable start() {
    return register()
        .thenMany(
            Mono.defer(this::publishRound)
                .flatMap(
                    n ->
                        n == batchSize
                            ? Mono.just(n)
                            : measureLag().then(Mono.delay(idlePoll)).thenReturn(n))
                .repeat())
        .retryWhen(
            Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                .maxBackoff(Duration.ofSeconds(5))
                .doBeforeRetry(s -> log.warn("outbox {} retrying after {}", name, s.failure())))
        .subscribe();
  }
}
