package dev.citadel.member.presence;

/** Where a player is, and whether they may join a queue now (only from the lobby). */
public record PresenceView(String playerId, String status, String matchId, boolean canQueue) {
  public static PresenceView of(String playerId, String status, String matchId) {
    return new PresenceView(playerId, status, matchId, "LOBBY".equals(status));
  }
}
