package dev.citadel.member.presence;

import dev.citadel.protocol.member.v1.PresenceChanged;
import dev.citadel.protocol.member.v1.PresenceStatus;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

/**
 * Presence rows. An update applies only if its sequence is newer than the stored one, so a
 * redelivered or replayed message changes nothing: the consumer is idempotent.
 */
public final class PresenceStore {
  private static final String APPLY_SQL =
      """
      INSERT INTO presence (player_id, status, match_id, sequence, updated_at)
      VALUES ($1, $2, $3, $4, $5)
      ON CONFLICT (player_id) DO UPDATE
        SET status = excluded.status, match_id = excluded.match_id,
            sequence = excluded.sequence, updated_at = excluded.updated_at
        WHERE presence.sequence < excluded.sequence
      """;
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
   * @return whether the update was newer and applied
   */
  public Mono<Boolean> apply(PresenceChanged change) {
    if (change.getStatus() == PresenceStatus.PRESENCE_STATUS_UNSPECIFIED
        || change.getStatus() == PresenceStatus.UNRECOGNIZED) {
      return Mono.error(new IllegalArgumentException("presence without a status: " + change));
    }
    var spec =
        db.sql(APPLY_SQL)
            .bind(0, change.getPlayerId())
            .bind(1, change.getStatus().name())
            .bind(3, change.getSequence())
            .bind(
                4,
                OffsetDateTime.ofInstant(
                    Instant.ofEpochMilli(change.getOccurredAtEpochMs()), ZoneOffset.UTC));
    spec =
        change.getMatchId().isEmpty()
            ? spec.bindNull(2, String.class)
            : spec.bind(2, change.getMatchId());
    return spec.fetch().rowsUpdated().map(n -> n > 0);
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
