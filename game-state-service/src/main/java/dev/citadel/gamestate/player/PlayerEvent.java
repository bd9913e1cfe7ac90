package dev.citadel.gamestate.player;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/** What happened to a player. Persisted as protobuf (see {@code storage.PlayerCodec}). */
public sealed interface PlayerEvent {
  record PlayerCreated(String playerId, String nickname, Instant at) implements PlayerEvent {}

  record ExperienceGained(long amount, long total) implements PlayerEvent {}

  record LeveledUp(int level) implements PlayerEvent {}

  record GoldEarned(long amount, String reason) implements PlayerEvent {}

  record GoldSpent(long amount, String reason) implements PlayerEvent {}

  record ItemAdded(String itemId, int quantity) implements PlayerEvent {}

  record ItemRemoved(String itemId, int quantity) implements PlayerEvent {}

  /** {@code accountSeq}: the rename's place in the account's stream (0 in events stored before). */
  record NicknameSet(String nickname, long accountSeq) implements PlayerEvent {}

  record RoomJoined(String matchId, int channel, int room) implements PlayerEvent {}

  record RoomLeft(String matchId) implements PlayerEvent {}

  record FriendshipChanged(String other, PlayerState.Relation relation) implements PlayerEvent {}

  /**
   * A match's result applied to this player: the rating in {@code queue} moved from {@code before}
   * to {@code after}; {@code games} counts the rated games in that queue, this one included. With
   * {@code settled} it is the player's whole result in one event: {@code gold} is earned, the
   * experience and level become the settled ones, and the player leaves the match's room if {@code
   * leftRoom}. Without it (events stored before 2026-12-06) the rewards and the leave followed as
   * their own events, and {@code gold} and {@code experience} only name them for the match history.
   */
  record MatchRated(
      String matchId,
      String queue,
      Outcome outcome,
      int before,
      int after,
      int games,
      long gold,
      long experience,
      Optional<Settled> settled)
      implements PlayerEvent {
    public MatchRated {
      Objects.requireNonNull(settled, "settled");
    }

    /** An event of the older form: its rewards and leave are events of their own. */
    public MatchRated(
        String matchId,
        String queue,
        Outcome outcome,
        int before,
        int after,
        int games,
        long gold,
        long experience) {
      this(matchId, queue, outcome, before, after, games, gold, experience, Optional.empty());
    }
  }

  /** Experience and level after a result, and whether the player left the match's room. */
  record Settled(long experienceTotal, int level, boolean leftRoom) {}
}
