package dev.citadel.gamestate.player;

import java.time.Instant;

/** What a client (or another service) asks of one player. Time arrives with the command. */
public sealed interface PlayerCommand {
  record CreatePlayer(String nickname, Instant at) implements PlayerCommand {}

  record GainExperience(long amount) implements PlayerCommand {}

  record EarnGold(long amount, String reason) implements PlayerCommand {}

  record SpendGold(long amount, String reason) implements PlayerCommand {}

  record AddItem(String itemId, int quantity) implements PlayerCommand {}

  record RemoveItem(String itemId, int quantity) implements PlayerCommand {}

  record SetNickname(String nickname) implements PlayerCommand {}

  record JoinRoom(String matchId, int channel, int room) implements PlayerCommand {}

  record LeaveRoom(String matchId) implements PlayerCommand {}

  /**
   * This player's side of a friendship change; the other player's side runs in the same two-phase
   * transaction ({@code SEND} here with {@code RECEIVE} there, {@code ACCEPT} with {@code
   * ACCEPTED}, {@code DECLINE} with {@code DECLINED}, {@code REMOVE} with {@code REMOVE}).
   */
  record Relate(String other, Action action) implements PlayerCommand {
    public enum Action {
      SEND,
      RECEIVE,
      ACCEPT,
      ACCEPTED,
      DECLINE,
      DECLINED,
      REMOVE
    }
  }
}
