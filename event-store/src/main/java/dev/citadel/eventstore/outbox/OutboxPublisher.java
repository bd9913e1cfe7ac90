package dev.citadel.eventstore.outbox;

import com.google.protobuf.ByteString;
import dev.citadel.eventstore.EventData;
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
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Tails the events table and publishes every committed event to Kafka at least once, in order per
 * aggregate, keeping its checkpoint in the database.
 *
 * <p>One round, with no database transaction open across the send: lease this outbox's checkpoint
 * (one statement: an owner and an expiry; a lease held by another live publisher means this one
 * waits its turn), read the next events in (tx_id, global_position) order below the oldest running
 * transaction, publish them with acks=all, then move the checkpoint in one statement that only
 * succeeds while this publisher still owns the lease (a round that outlasts its lease still moves
 * the checkpoint if nobody took the lease meanwhile). A publisher that crashes or stalls past its
 * lease is replaced by another from the checkpoint, which republishes the round: consumers dedupe
 * by (aggregate id, seq). An event Kafka can never accept (over the size limit) is set aside in
 * {@code outbox_dead_letters} and counted, instead of blocking everything behind it.
 *
 * <p>One unit on purpose (over 300 lines): the lease, the read, the send and the checkpoint are the
 * steps of one round and share its state; split, each would need the others' invariants.
 */
public final class OutboxPublisher {
  private static final Logger log = LoggerFactory.getLogger(OutboxPublisher.class);

  /**
   * Envelope bytes above which Kafka would refuse the record: its default request limit (1 MiB, the
   * producer's {@code max.request.size} and the broker's {@code message.max.bytes}) less room for
   * the key, headers and batch overhead. New events are far below it ({@link
   * EventData#MAX_PAYLOAD_BYTES}); only an event written before that limit can reach it.
   */
  static final int MAX_MESSAGE_BYTES = 1024 * 1024 - 16 * 1024;

  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(10);

  private static final String REGISTER_SQL =
      "INSERT INTO outbox_checkpoints (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
  private static final String LEASE_SQL =
      """
      UPDATE outbox_checkpoints
      SET lease_owner = $2, lease_until = clock_timestamp() + make_interval(secs => $3)
      WHERE name = $1
        AND (lease_owner IS NULL OR lease_owner = $2 OR lease_until < clock_timestamp())
      RETURNING last_tx_id::text AS tx, last_position
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
      WHERE name = $1 AND lease_owner = $4
      """;
  private static final String RENEW_SQL =
      """
      UPDATE outbox_checkpoints SET lease_until = clock_timestamp() + make_interval(secs => $3)
      WHERE name = $1 AND lease_owner = $2
      """;
  private static final String RELEASE_SQL =
      """
      UPDATE outbox_checkpoints SET lease_owner = NULL, lease_until = '-infinity'
      WHERE name = $1 AND lease_owner = $2
      """;
  private static final String SET_ASIDE_SQL =
      """
      INSERT INTO outbox_dead_letters
        (name, global_position, aggregate_id, seq, event_type, reason, envelope)
      VALUES ($1, $2, $3, $4, $5, $6, $7)
      ON CONFLICT (name, global_position) DO NOTHING
      """;
  private static final String LAG_SQL =
      """
      SELECT COALESCE((SELECT max(global_position) FROM events), 0) - c.last_position AS lag
      FROM outbox_checkpoints c WHERE c.name = $1
      """;

  private record Checkpoint(String txId, long position) {}

  private record Row(Checkpoint at, String aggregateId, EventEnvelope envelope) {}

  private final DatabaseClient db;
  private final MessagePublisher publisher;
  private final String name;
  private final String topic;
  private final int batchSize;
  private final Duration idlePoll;
  private final Duration lease;
  private final String owner = UUID.randomUUID().toString();
  private final Counter published;
  private final Counter setAside;
  private final Counter leaseLost;
  private final AtomicLong lag = new AtomicLong();
  private final java.util.concurrent.atomic.AtomicInteger sending =
      new java.util.concurrent.atomic.AtomicInteger();

  public OutboxPublisher(
      ConnectionFactory connections,
      MessagePublisher publisher,
      String name,
      String topic,
      int batchSize,
      Duration idlePoll,
      MeterRegistry meters) {
    this(connections, publisher, name, topic, batchSize, idlePoll, DEFAULT_LEASE, meters);
  }

  /**
   * @param lease how long a round may take before another publisher may take over (a send that
   *     takes longer is republished by the next owner, never lost)
   */
  public OutboxPublisher(
      ConnectionFactory connections,
      MessagePublisher publisher,
      String name,
      String topic,
      int batchSize,
      Duration idlePoll,
      Duration lease,
      MeterRegistry meters) {
    this.db = DatabaseClient.create(connections);
    this.publisher = publisher;
    this.name = name;
    this.topic = topic;
    this.batchSize = batchSize;
    this.idlePoll = idlePoll;
    this.lease = lease;
    this.published =
        Counter.builder("citadel_outbox_published_events")
            .tag("outbox", name)
            .description("Events published to Kafka by the outbox")
            .register(meters);
    this.setAside =
        Counter.builder("citadel_outbox_dead_letters")
            .tag("outbox", name)
            .description("Events Kafka can never accept, set aside in outbox_dead_letters")
            .register(meters);
    this.leaseLost =
        Counter.builder("citadel_outbox_lease_lost")
            .tag("outbox", name)
            .description("Rounds whose lease another publisher took before the checkpoint moved")
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
   * @return how many events were published (or set aside); 0 when there was nothing to do, another
   *     publisher holds the lease, or this one lost it during the round
   */
  public Mono<Integer> publishRound() {
    return Mono.defer(
        () -> {
          // When the lease ends by this process's clock: taken before the statement is sent, so
          // never after the database's own expiry; moved on by each renewal that succeeds.
          AtomicLong leaseEnds = new AtomicLong(System.nanoTime() + heldNanos());
          return db.sql(LEASE_SQL)
              .bind(0, name)
              .bind(1, owner)
              .bind(2, lease.toMillis() / 1000.0)
              .map(
                  r ->
                      new Checkpoint(r.get("tx", String.class), r.get("last_position", Long.class)))
              .one()
              .flatMap(
                  from ->
                      publishAfter(from, leaseEnds)
                          // A round that fails (Kafka unreachable from here) gives the lease up, so
                          // a publisher that can reach Kafka takes over instead of waiting on this
                          // one.
                          .onErrorResume(e -> releaseQuietly().then(Mono.error(e))))
              .defaultIfEmpty(0);
        });
  }

  /** How long a lease is counted on after the statement that took or renewed it was sent. */
  private long heldNanos() {
    return lease.toNanos() - lease.toNanos() / 10; // a tenth less: the two clocks' drift
  }

  /** Gives the lease up (on a clean stop), so another publisher need not wait for it to expire. */
  public Mono<Void> release() {
    return db.sql(RELEASE_SQL).bind(0, name).bind(1, owner).then();
  }

  private Mono<Void> releaseQuietly() {
    return release()
        .onErrorResume(
            e -> {
              log.debug(
                  "outbox {} could not release its lease (it expires): {}", name, e.toString());
              return Mono.empty();
            });
  }

  private Mono<Integer> publishAfter(Checkpoint from, AtomicLong leaseEnds) {
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
        .flatMap(rows -> rows.isEmpty() ? Mono.just(0) : publish(rows, leaseEnds));
  }

  private Mono<Integer> publish(List<Row> rows, AtomicLong leaseEnds) {
    List<Row> tooLarge =
        rows.stream().filter(r -> r.envelope().getSerializedSize() > MAX_MESSAGE_BYTES).toList();
    List<Row> sendable = rows.stream().filter(row -> !tooLarge.contains(row)).toList();
    java.util.concurrent.atomic.AtomicInteger setAsideNow =
        new java.util.concurrent.atomic.AtomicInteger();
    Flux<OutgoingMessage> messages = Flux.fromIterable(sendable).map(this::message);
    Checkpoint last = rows.get(rows.size() - 1).at();
    // A send may take longer than the lease (Kafka slow, retrying): the lease is renewed while
    // the round runs, so a live publisher is not replaced by another that republishes its batch.
    Mono<Void> send =
        Flux.fromIterable(tooLarge)
            .concatMap(row -> setAside(row, tooLargeReason(row.envelope())))
            .thenMany(publisher.publishAll(messages))
            .then()
            // Kafka refused a record for good (over the topic's own size limit, invalid): sent
            // again one at a time, the one it refuses is set aside. Failed as a round, it failed
            // every round for ever and the events around it were sent again each time.
            .onErrorResume(
                OutboxPublisher::refusedForGood,
                e ->
                    Flux.fromIterable(sendable)
                        .concatMap(
                            row ->
                                publisher
                                    .publish(message(row))
                                    .then()
                                    .onErrorResume(
                                        OutboxPublisher::refusedForGood,
                                        refused -> {
                                          setAsideNow.incrementAndGet();
                                          return setAside(row, "Kafka refused it: " + refused);
                                        }))
                        .then())
            .doOnSubscribe(x -> sending.incrementAndGet())
            .doFinally(x -> sending.decrementAndGet());
    // A renewal that finds the lease taken (this publisher stalled past it: a pause) ends the
    // round at once: the new owner is republishing from the checkpoint, and this one's sends
    // would land after the new owner's newer events. So does a lease run out by this process's
    // clock while renewals failed (a database it could not reach: until 2026-12-07 such a round
    // went on sending for as long as its send took, whoever held the lease by then).
    Mono<Void> renewing =
        Flux.interval(lease.dividedBy(3))
            .concatMap(
                t -> {
                  long sent = System.nanoTime();
                  return db.sql(RENEW_SQL)
                      .bind(0, name)
                      .bind(1, owner)
                      .bind(2, lease.toMillis() / 1000.0)
                      .fetch()
                      .rowsUpdated()
                      .timeout(lease.dividedBy(3))
                      .flatMap(
                          renewed -> {
                            if (renewed == 0) {
                              return Mono.<Long>error(new LeaseLost());
                            }
                            leaseEnds.set(sent + heldNanos());
                            return Mono.just(renewed);
                          })
                      .onErrorResume(
                          e -> !(e instanceof LeaseLost),
                          e -> {
                            // The deadline below tells whether it ran out meanwhile.
                            log.debug(
                                "outbox {} could not renew its lease: {}", name, e.toString());
                            return Mono.just(1L);
                          });
                })
            .then();
    // The lease's end by this clock, watched on its own (a renewal is due only every third of a
    // lease, and one that hangs waits for its timeout): stopped within a twentieth of a lease
    // of it. Records already handed to the producer still land (Kafka's producer cannot take them
    // back): the next owner's newer copies of the same events may land before them.
    Mono<Void> runOut =
        Flux.interval(lease.dividedBy(20))
            .filter(t -> System.nanoTime() - leaseEnds.get() > 0)
            .next()
            .then(Mono.error(new LeaseLost()));
    return Mono.firstWithSignal(send, renewing, runOut)
        .then(
            db.sql(ADVANCE_SQL)
                .bind(0, name)
                .bind(1, last.txId())
                .bind(2, last.position())
                .bind(3, owner)
                .fetch()
                .rowsUpdated())
        .map(
            moved -> {
              if (moved == 0) {
                leaseLost.increment();
                log.warn(
                    "outbox {} lost its lease during a round of {} events; the next owner"
                        + " publishes them again",
                    name,
                    rows.size());
                return 0;
              }
              published.increment(rows.size() - tooLarge.size() - setAsideNow.get());
              return rows.size();
            })
        .onErrorResume(
            LeaseLost.class,
            e -> {
              leaseLost.increment();
              log.warn(
                  "outbox {} lost its lease during a round of {} events; stopped sending them",
                  name,
                  rows.size());
              return Mono.just(0);
            });
  }

  /** Another publisher holds the lease now. */
  private static final class LeaseLost extends RuntimeException {
    private static final long serialVersionUID = 1L;

    LeaseLost() {
      super("outbox lease lost", null, false, false);
    }
  }

  private OutgoingMessage message(Row row) {
    return new OutgoingMessage(
        topic,
        row.aggregateId(),
        row.envelope().toByteArray(),
        Map.of(
            "event-type", row.envelope().getEventType(),
            "seq", Long.toString(row.envelope().getSeq())));
  }

  /** Kafka's errors for a record it will never take, whatever the retry (named: no import). */
  static final java.util.Set<String> REFUSED_FOR_GOOD =
      java.util.Set.of(
          "org.apache.kafka.common.errors.RecordTooLargeException",
          "org.apache.kafka.common.errors.InvalidRecordException",
          "org.apache.kafka.common.InvalidRecordException");

  static boolean refusedForGood(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (REFUSED_FOR_GOOD.contains(t.getClass().getName())) {
        return true;
      }
    }
    return false;
  }

  private static String tooLargeReason(EventEnvelope e) {
    return "envelope of "
        + e.getSerializedSize()
        + " bytes; Kafka takes at most "
        + MAX_MESSAGE_BYTES;
  }

  private Mono<Void> setAside(Row row, String reason) {
    EventEnvelope e = row.envelope();
    log.error(
        "outbox {} sets aside event {} #{} ({}): {}",
        name,
        e.getAggregateId(),
        e.getSeq(),
        e.getEventType(),
        reason);
    return db.sql(SET_ASIDE_SQL)
        .bind(0, name)
        .bind(1, row.at().position())
        .bind(2, e.getAggregateId())
        .bind(3, e.getSeq())
        .bind(4, e.getEventType())
        .bind(5, reason)
        .bind(6, ByteBuffer.wrap(e.toByteArray()))
        .fetch()
        .rowsUpdated()
        .doOnNext(
            inserted -> {
              if (inserted > 0) {
                setAside.increment(); // once per event, not once per retried round
              }
            })
        .then();
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

  /**
   * Publishes until stopped: rounds back to back while there is work, then polls; the lag gauge is
   * measured every {@link #LAG_EVERY} on its own (after rounds only, it froze at its last value
   * exactly when every round failed).
   *
   * <p>{@link Running#finish()} (a service stopping) lets the round in hand complete, starts no
   * other and gives the lease up, so another instance takes over at once. Disposing stops at once:
   * the lease is given up too, unless a round was sending: then it is left to expire, so that the
   * records already handed to Kafka land before the next owner sends them again (given up at once,
   * they could land after the next owner's newer events of the same stream).
   */
  public Running start() {
    java.util.concurrent.atomic.AtomicBoolean stopping =
        new java.util.concurrent.atomic.AtomicBoolean();
    reactor.core.publisher.Sinks.Empty<Void> stopAsked = reactor.core.publisher.Sinks.empty();
    reactor.core.publisher.Sinks.Empty<Void> finished = reactor.core.publisher.Sinks.empty();
    Disposable loop = loop(stopping, stopAsked.asMono(), finished);
    Disposable lagging =
        Flux.interval(Duration.ZERO, LAG_EVERY)
            // A query that hangs (a database that stopped answering) is given up and the ticks
            // meanwhile dropped: queued, they overflowed and ended the loop for good.
            .onBackpressureDrop()
            .concatMap(
                t ->
                    measureLag()
                        .timeout(LAG_EVERY)
                        .onErrorResume(
                            e -> {
                              log.debug(
                                  "outbox {} could not measure its lag: {}", name, e.toString());
                              return Mono.empty();
                            }))
            .subscribe();
    return new Running() {
      @Override
      public Mono<Void> finish() {
        stopping.set(true);
        stopAsked.tryEmitEmpty();
        lagging.dispose();
        return finished.asMono();
      }

      @Override
      public void dispose() {
        boolean wasSending = sending.get() > 0;
        loop.dispose();
        lagging.dispose();
        if (!wasSending) {
          releaseQuietly().subscribe();
        }
      }

      @Override
      public boolean isDisposed() {
        return loop.isDisposed();
      }
    };
  }

  /** A started publisher: disposed, it stops at once; finished, after the round in hand. */
  public interface Running extends Disposable {
    /** Completes once the round in hand is done and the lease given up. */
    Mono<Void> finish();
  }

  static final Duration LAG_EVERY = Duration.ofSeconds(5);

  private Disposable loop(
      java.util.concurrent.atomic.AtomicBoolean stopping,
      Mono<Void> stopAsked,
      reactor.core.publisher.Sinks.Empty<Void> finished) {
    // Deferred and checked at each (re)subscription: a retry whose back-off ends after the stop was
    // asked starts no new round (it would take the lease and send again).
    return Flux.defer(
            () ->
                stopping.get()
                    ? Flux.<Integer>empty()
                    : register()
                        .thenMany(
                            Mono.defer(this::publishRound)
                                .flatMap(
                                    n ->
                                        n == batchSize
                                            ? Mono.just(n)
                                            : Mono.delay(idlePoll)
                                                .takeUntilOther(stopAsked)
                                                .thenReturn(n))
                                .repeat(() -> !stopping.get())))
        .retryWhen(
            Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(200))
                .maxBackoff(Duration.ofSeconds(5))
                .filter(e -> !stopping.get())
                .doBeforeRetry(s -> log.warn("outbox {} retrying after {}", name, s.failure())))
        // Finished between rounds: nothing of ours is in flight, the next owner may start now.
        .then(Mono.defer(this::releaseQuietly))
        .doFinally(signal -> finished.tryEmitEmpty())
        .subscribe(done -> {}, e -> log.warn("outbox {} stopped on: {}", name, e.toString()));
  }
}
