package dev.citadel.eventstore.internal;

import java.time.Duration;
import java.time.OffsetDateTime;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The append statements running in this database ({@code pg_stat_activity}, found by {@link
 * AppendStatement#MARK}): a lookup after a reply in doubt waits for those running when it began. A
 * group-commit statement commits when it ends, with no further word from its client, so one whose
 * reply was lost while it still waited for another stream's row commits after a lookup that waited
 * only for the looked-up row; this wait closes that gap.
 */
public final class RunningAppends {
  /**
   * The appends running on any other connection that started at or before {@code $1} (null: now),
   * and that moment.
   */
  private static final String SQL =
      """
      SELECT coalesce($1, clock_timestamp()) AS since, count(*) AS running
      FROM pg_stat_activity
      WHERE state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()
        AND query LIKE '"""
          + AppendStatement.MARK
          + """
      %' AND query_start <= coalesce($1, clock_timestamp())
      """;

  /** How long a lookup waits for appends still running before it gives up (outcome unknown). */
  public static final Duration WAIT = Duration.ofSeconds(10);

  private final DatabaseClient db;

  /**
   * The lookups that came while a round's first count was being asked: they share the next round,
   * which starts once that count is answered (its moment is after each of them came). A failed
   * group-commit statement sends up to a thousand lookups here at once; each polled on its own, 50
   * times a second, and their queries took the pool from every other load and append.
   */
  private Sinks.One<Void> forming;

  /** Whether a round's first count is being asked now. */
  private boolean starting;

  public RunningAppends(DatabaseClient db) {
    this.db = db;
  }

  /**
   * Completes once every append statement that was running when this was called has ended; fails
   * after {@link #WAIT}.
   */
  public Mono<Void> ended() {
    return Mono.defer(
        () -> {
          Sinks.One<Void> round;
          boolean start;
          synchronized (this) {
            if (forming == null) {
              forming = Sinks.one();
            }
            round = forming;
            start = !starting;
            if (start) {
              starting = true;
              forming = null;
            }
          }
          if (start) {
            run(round);
          }
          return round
              .asMono()
              .timeout(
                  WAIT,
                  Mono.error(
                      () ->
                          new IllegalStateException(
                              "an append that began before this lookup is still running after "
                                  + WAIT)));
        });
  }

  /** One round: its first count fixes its moment; then it polls until those appends ended. */
  private void run(Sinks.One<Void> round) {
    count(null)
        .doFinally(signal -> next())
        .expand(
            r ->
                r.running() == 0
                    ? Mono.empty()
                    : Mono.delay(Duration.ofMillis(20)).then(count(r.since())))
        .filter(r -> r.running() == 0)
        .next()
        .timeout(WAIT)
        .subscribe(
            r -> round.tryEmitEmpty(),
            round::tryEmitError,
            () -> round.tryEmitEmpty()); // (a count answers one row: never empty)
  }

  /** A round's first count is answered: the lookups that came meanwhile start theirs. */
  private void next() {
    Sinks.One<Void> round;
    synchronized (this) {
      round = forming;
      forming = null;
      starting = round != null;
    }
    if (round != null) {
      run(round);
    }
  }

  private record Running(OffsetDateTime since, long running) {}

  private final java.util.concurrent.atomic.AtomicLong queries =
      new java.util.concurrent.atomic.AtomicLong();

  /** How many counts this has asked (for tests). */
  long queries() {
    return queries.get();
  }

  private Mono<Running> count(OffsetDateTime since) {
    queries.incrementAndGet();
    var spec = db.sql(SQL);
    spec = since == null ? spec.bindNull(0, OffsetDateTime.class) : spec.bind(0, since);
    return spec.map(
            row ->
                new Running(row.get("since", OffsetDateTime.class), row.get("running", Long.class)))
        .one();
  }
}
