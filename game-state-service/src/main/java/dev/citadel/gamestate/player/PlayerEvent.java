package dev.citadel.gamestate.player;

import java.time.Instant;

/** What happened to a player. Persisted as protobuf (see {@code storage.PlayerCodec}). */
public sealed interface PlayerEvent {
  record PlayerCreated(String playerId, String nickname, Instant at) implements PlayerEvent {}

  record ExperienceGained(long amount, long total) implements PlayerEvent {}

  record LeveledUp(int level) implements PlayerEvent {}

  record GoldEarned(long amount, String reason) implements PlayerEvent {}

  record GoldSpent(long amount, String reason) implements PlayerEvent {}

  record ItemAdded(String itemId, int quantity) implements PlayerEvent {}

  record ItemRemoved(String itemId, int quantity) implements PlayerEvent {}

  record NicknameSet(String nickname) implements PlayerEvent {}

  record RoomJoined(String matchId, int channel, int room) implements PlayerEvent {}

  record RoomLeft(String matchId) implements PlayerEvent {}

  record FriendshipChanged(String other, PlayerState.Relation relation) implements PlayerEvent {}

  /**
   * A match's result applied to this player: the rating in {@code queue} moved from {@code before}
   * to {@code after}; {@code games} counts the rated games in that queue, this one included. The
   * rewards ({@code gold}, {@code experience}) follow as their own events and are named here for
   * the match history.
   */
  record MatchRated(
      String matchId,
      String queue,
      Outcome outcome,
      int before,
      int after,
      int games,
      long gold,
      long experience)
      implements PlayerEvent {}
}
