package dev.citadel.gamestate.player;

import java.time.Instant;

/** What happened to a player. Persisted as protobuf (see {@link PlayerCodec}). */
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
}
