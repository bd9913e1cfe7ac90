package dev.citadel.eventstore.internal;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.IdempotencyKey;
import io.r2dbc.spi.R2dbcException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * Appends to many streams in one SQL statement, checking each stream's expected version (and
 * idempotency key, when given). The appends come in groups: a group's streams are written all or
 * none (every one at its expected version and without the key, or none written), each group decided
 * on its own. Group commit sends many single appends (groups of one) and the atomic appends of
 * transactions together: one statement is one database transaction, so a group needs no transaction
 * of its own. The result names the streams written, and those that were at their expected version
 * but not written because another stream of their group was not.
 *
 * <p>The statement's text never changes (the rows travel as arrays), so PostgreSQL plans it once.
 * Each row carries its group's size, so whether a group is whole is a count over its rows (a window
 * function), never a join back to the input.
 *
 * <p>Stream rows are locked in id order (the {@code locked} CTE, and the requests are sorted before
 * they are bound), so two statements touching the same streams queue behind each other instead of
 * deadlocking. A deadlock can still come from elsewhere; {@link #isRetryable} says when running the
 * statement again is safe. A stream is created (expected version 0) only by a group of one.
 */
public final class AppendStatement {
  private static final java.util.HexFormat HEX = java.util.HexFormat.of();

  /**
   * The statement's first words: a lookup after a failure in doubt finds the appends still running
   * by them ({@code pg_stat_activity}), so a reply lost while the statement waited is not taken for
   * "not written" before it ends. A comment: the text stays the same, and so does its plan.
   */
  public static final String MARK = "/* citadel:append */";

  static final String SQL =
      MARK
          + """
      WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
                             $10::text[], $11::text[], $12::int4[], $13::int4[])
          AS i(aggregate_id, aggregate_type, expected, new_version, recorded_at_ms,
               idem_key, fingerprint, grp, grp_size)
      ),
      fresh AS (
        SELECT i.* FROM input i
        WHERE i.idem_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM idempotency_keys k
          WHERE k.aggregate_id = i.aggregate_id AND k.idem_key = i.idem_key)
      ),
      locked AS (
        SELECT s.aggregate_id, i.expected, i.new_version, i.grp, i.grp_size
        FROM streams s JOIN fresh i ON s.aggregate_id = i.aggregate_id
        WHERE i.expected > 0 AND s.version = i.expected
        ORDER BY s.aggregate_id
        FOR UPDATE OF s
      ),
      counted AS (
        SELECT l.*, count(*) OVER (PARTITION BY l.grp) AS at_expected FROM locked l
      ),
      whole AS (
        SELECT * FROM counted WHERE at_expected = grp_size
      ),
      updated AS (
        UPDATE streams s SET version = w.new_version
        FROM whole w
        WHERE s.aggregate_id = w.aggregate_id AND s.version = w.expected
        RETURNING s.aggregate_id
      ),
      created AS (
        INSERT INTO streams (aggregate_id, aggregate_type, version)
        SELECT aggregate_id, aggregate_type, new_version FROM fresh
        WHERE expected = 0 AND grp_size = 1
        ORDER BY aggregate_id
        ON CONFLICT (aggregate_id) DO NOTHING
        RETURNING aggregate_id
      ),
      accepted AS (
        SELECT aggregate_id FROM updated UNION ALL SELECT aggregate_id FROM created
      ),
      inserted AS (
        INSERT INTO events (aggregate_id, seq, aggregate_type, event_type, payload, recorded_at)
        SELECT e.aggregate_id, e.seq, i.aggregate_type, e.event_type,
               decode(e.payload_hex, 'hex'), to_timestamp(i.recorded_at_ms / 1000.0)
        FROM unnest($6::text[], $7::bigint[], $8::text[], $9::text[])
               AS e(aggregate_id, seq, event_type, payload_hex)
        JOIN accepted a ON a.aggregate_id = e.aggregate_id
        JOIN input i ON i.aggregate_id = e.aggregate_id
        ORDER BY e.aggregate_id, e.seq
        RETURNING 1
      ),
      keyed AS (
        INSERT INTO idempotency_keys
          (aggregate_id, idem_key, fingerprint, first_seq, last_seq, recorded_at)
        -- When it was stored, not the request's time: a key ages from here (a request applied
        -- late, its time days old, lost its key at the next sweep and could apply again).
        SELECT i.aggregate_id, i.idem_key, i.fingerprint, i.expected + 1, i.new_version, now()
        FROM input i JOIN accepted a ON a.aggregate_id = i.aggregate_id
        WHERE i.idem_key IS NOT NULL
        RETURNING 1
      )
      SELECT aggregate_id, true AS written FROM accepted
      UNION ALL
      SELECT aggregate_id, false FROM counted WHERE at_expected <> grp_size
      """;

  /**
   * What the statement did: the streams it wrote, and those at their expected version that it did
   * not write (another stream of their group was stale or held the key).
   */
  public record Result(Set<String> written, Set<String> ready) {
    /** The first of these requests whose stream was neither written nor ready: the stale one. */
    public java.util.Optional<AppendRequest> firstStale(List<AppendRequest> requests) {
      return requests.stream()
          .filter(r -> !written.contains(r.aggregateId()) && !ready.contains(r.aggregateId()))
          .findFirst();
    }
  }

  private AppendStatement() {}

  /** Runs the statement for single appends (each a group of one). */
  public static Mono<Result> execute(DatabaseClient db, List<AppendRequest> singles) {
    return executeGroups(db, singles.stream().map(List::of).toList());
  }

  /** Runs the statement: each group's appends are written all or none. */
  public static Mono<Result> executeGroups(DatabaseClient db, List<List<AppendRequest>> groups) {
    Object[] parameters = groupParameters(groups);
    DatabaseClient.GenericExecuteSpec spec = db.sql(SQL);
    for (int i = 0; i < parameters.length; i++) {
      spec = spec.bind(i, parameters[i]);
    }
    return spec.map(
            row ->
                java.util.Map.entry(
                    row.get("aggregate_id", String.class),
                    Boolean.TRUE.equals(row.get("written", Boolean.class))))
        .all()
        .collectList()
        .map(
            rows -> {
              Set<String> written = new HashSet<>();
              Set<String> ready = new HashSet<>();
              rows.forEach(r -> (r.getValue() ? written : ready).add(r.getKey()));
              return new Result(written, ready);
            });
  }

  /** The SQL types of {@link #parameters}, in order ({@code $1} first). */
  static final List<String> PARAMETER_TYPES =
      List.of(
          "text", "text", "bigint", "bigint", "bigint", "text", "bigint", "text", "text", "text",
          "text", "int4", "int4");

  /** The statement's arrays for single appends (each a group of one). */
  static Object[] parameters(List<AppendRequest> singles) {
    return groupParameters(singles.stream().map(List::of).toList());
  }

  /** The statement's thirteen arrays for these groups of appends, streams sorted by id. */
  static Object[] groupParameters(List<List<AppendRequest>> groups) {
    record Row(AppendRequest request, int group, int size) {}
    List<Row> rows = new ArrayList<>();
    for (int g = 0; g < groups.size(); g++) {
      for (AppendRequest r : groups.get(g)) {
        rows.add(new Row(r, g, groups.get(g).size()));
      }
    }
    rows.sort(Comparator.comparing(row -> row.request().aggregateId()));
    int streams = rows.size();
    int events = rows.stream().mapToInt(r -> r.request().events().size()).sum();
    String[] ids = new String[streams];
    String[] types = new String[streams];
    Long[] expected = new Long[streams];
    Long[] newVersion = new Long[streams];
    Long[] recordedAt = new Long[streams];
    String[] eventIds = new String[events];
    Long[] seqs = new Long[events];
    String[] eventTypes = new String[events];
    String[] payloads = new String[events];
    String[] keys = new String[streams];
    String[] fingerprints = new String[streams];
    Integer[] group = new Integer[streams];
    Integer[] groupSize = new Integer[streams];
    Set<String> seen = new HashSet<>();
    int e = 0;
    for (int s = 0; s < streams; s++) {
      AppendRequest r = rows.get(s).request();
      if (!seen.add(r.aggregateId())) {
        throw new IllegalArgumentException("two appends to " + r.aggregateId() + " in one batch");
      }
      if (rows.get(s).size() > 1 && r.expectedVersion() == 0) {
        throw new IllegalArgumentException(
            "a stream is created only by an append of its own: " + r.aggregateId());
      }
      ids[s] = r.aggregateId();
      types[s] = r.aggregateType();
      expected[s] = r.expectedVersion();
      newVersion[s] = r.newVersion();
      recordedAt[s] = r.recordedAt().toEpochMilli();
      keys[s] = r.key().map(IdempotencyKey::value).orElse(null);
      fingerprints[s] = r.key().map(IdempotencyKey::fingerprint).orElse(null);
      group[s] = rows.get(s).group();
      groupSize[s] = rows.get(s).size();
      long seq = r.expectedVersion();
      for (EventData event : r.events()) {
        eventIds[e] = r.aggregateId();
        seqs[e] = ++seq;
        eventTypes[e] = event.type();
        payloads[e] = HEX.formatHex(event.payload());
        e++;
      }
    }
    return new Object[] {
      ids,
      types,
      expected,
      newVersion,
      recordedAt,
      eventIds,
      seqs,
      eventTypes,
      payloads,
      keys,
      fingerprints,
      group,
      groupSize
    };
  }

  /**
   * True when the statement (or its transaction) was rolled back by a deadlock (40P01) or a
   * serialization failure (40001): nothing was written, and running it again is safe. Spring does
   * not map every driver's rollback codes to its transient exceptions, so this reads the SQLSTATE.
   */
  public static boolean isRetryable(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof R2dbcException r2dbc) {
        String state = r2dbc.getSqlState();
        if ("40P01".equals(state) || "40001".equals(state)) {
          return true;
        }
      }
      if (t instanceof TransientDataAccessException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }
}
