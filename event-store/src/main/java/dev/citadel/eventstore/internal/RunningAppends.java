package dev.citadel.eventstore.internal;

import java.time.Duration;
import java.time.OffsetDateTime;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

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

  public RunningAppends(DatabaseClient db) {
    this.db = db;
  }

  /**
   * Completes once every append statement that was running when this was called has ended; fails
   * after {@link #WAIT}.
   */
  public Mono<Void> ended() {
    return count(null)
        .expand(
            r ->
                r.running() == 0
                    ? Mono.empty()
                    : Mono.delay(Duration.ofMillis(20)).then(count(r.since())))
        .filter(r -> r.running() == 0)
        .next()
        .timeout(
            WAIT,
            Mono.error(
                () ->
                    new IllegalStateException(
                        "an append that began before this lookup is still running after " + WAIT)))
        .then();
  }

  private record Running(OffsetDateTime since, long running) {}

  private Mono<Running> count(OffsetDateTime since) {
    var spec = db.sql(SQL);
    spec = since == null ? spec.bindNull(0, OffsetDateTime.class) : spec.bind(0, since);
    return spec.map(
            row ->
                new Running(row.get("since", OffsetDateTime.class), row.get("running", Long.class)))
        .one();
  }
}
