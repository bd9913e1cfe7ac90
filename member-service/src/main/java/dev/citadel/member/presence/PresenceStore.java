package dev.citadel.member.presence;

import dev.citadel.protocol.member.v1.PresenceChanged;
import dev.citadel.protocol.member.v1.PresenceStatus;
import java.util.List;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * Presence rows. An update applies only if its sequence is newer than the stored one, so a
 * redelivered or replayed message changes nothing: the consumer is idempotent.
 */
public final class PresenceStore {
  // A batch from the topic in one statement: per player only the newest change (the later one in
  // the topic when two carry the same sequence; a player's two rows in one upsert would be an
  // error), only players with an account (load-test players have none: skipped, counted, never a
  // failed insert); older than stored changes nothing. Each CTE joins a table by its key, so the
  // generic plan (arrays count as ten rows) stays linear.
  private static final String APPLY_ALL_SQL =
      """
      WITH input AS (
        SELECT DISTINCT ON (player_id) player_id, status, match_id, sequence, updated_at_ms
        FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
          WITH ORDINALITY AS i(player_id, status, match_id, sequence, updated_at_ms, position)
        ORDER BY player_id, sequence DESC, position DESC
      ),
      known AS (
        SELECT i.* FROM input i JOIN accounts a ON a.player_id = i.player_id
      ),
      written AS (
        INSERT INTO presence (player_id, status, match_id, sequence, updated_at)
        SELECT player_id, status, match_id, sequence, to_timestamp(updated_at_ms / 1000.0)
        FROM known ORDER BY player_id
        ON CONFLICT (player_id) DO UPDATE
          SET status = excluded.status, match_id = excluded.match_id,
              sequence = excluded.sequence, updated_at = excluded.updated_at
          WHERE presence.sequence < excluded.sequence
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM written) AS applied,
             (SELECT count(*) FROM input) - (SELECT count(*) FROM known) AS unknown
      """;

  /** What a batch did: players whose row moved; players without an account, skipped. */
  public record Applied(long applied, long unknown) {}

  private static final String VIEW_SQL =
      """
      SELECT a.player_id, COALESCE(p.status, 'LOBBY') AS status, p.match_id
      FROM accounts a LEFT JOIN presence p ON p.player_id = a.player_id
      WHERE a.player_id = $1
      """;

  private final DatabaseClient db;

  public PresenceStore(DatabaseClient db) {
    this.db = db;
  }

  /**
   * Applies a batch of changes in one statement (see {@code APPLY_ALL_SQL}). A change without a
   * status is refused before anything is written.
   */
  public Mono<Applied> applyAll(List<PresenceChanged> changes) {
    int n = changes.size();
    String[] players = new String[n];
    String[] statuses = new String[n];
    String[] matches = new String[n];
    Long[] sequences = new Long[n];
    Long[] at = new Long[n];
    for (int i = 0; i < n; i++) {
      PresenceChanged c = changes.get(i);
      requireStatus(c);
      players[i] = c.getPlayerId();
      statuses[i] = c.getStatus().name();
      matches[i] = c.getMatchId().isEmpty() ? null : c.getMatchId();
      sequences[i] = c.getSequence();
      at[i] = c.getOccurredAtEpochMs();
    }
    return db.sql(APPLY_ALL_SQL)
        .bind(0, players)
        .bind(1, statuses)
        .bind(2, matches)
        .bind(3, sequences)
        .bind(4, at)
        .map(r -> new Applied(r.get("applied", Long.class), r.get("unknown", Long.class)))
        .one();
  }

  /** The latest time a change may carry (the end of year 9999), in epoch milliseconds. */
  static final long LATEST_MS = 253_402_300_799_999L;

  /**
   * A change that can never be applied: it names no status, or a time the database cannot hold
   * (retried as a passing failure, it held its partition for good).
   */
  static void requireStatus(PresenceChanged change) {
    if (change.getStatus() == PresenceStatus.PRESENCE_STATUS_UNSPECIFIED
        || change.getStatus() == PresenceStatus.UNRECOGNIZED) {
      throw new IllegalArgumentException("presence without a status: " + change);
    }
    if (change.getOccurredAtEpochMs() < 0 || change.getOccurredAtEpochMs() > LATEST_MS) {
      throw new IllegalArgumentException("presence at no possible time: " + change);
    }
  }

  /** Empty when there is no such account. */
  public Mono<PresenceView> view(String playerId) {
    return db.sql(VIEW_SQL)
        .bind(0, playerId)
        .map(
            r ->
                PresenceView.of(
                    r.get("player_id", String.class),
                    r.get("status", String.class),
                    r.get("match_id", String.class)))
        .one();
  }
}
