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

  /**
   * The account's rename, at its place in the account's stream ({@code accountSeq}): renames apply
   * in that order, whatever order they arrive in.
   */
  record SetNickname(String nickname, long accountSeq) implements PlayerCommand {}

  record JoinRoom(String matchId, int channel, int room) implements PlayerCommand {}

  record LeaveRoom(String matchId) implements PlayerCommand {}

  /**
   * A game server's reward: gold, experience and items at once (any may be zero or empty, not all).
   * Only internal callers build it; players never send amounts.
   */
  record Grant(long gold, long experience, java.util.List<Items> items, String reason)
      implements PlayerCommand {
    public Grant {
      items = java.util.List.copyOf(items);
    }
  }

  /** Some of one item. */
  record Items(String itemId, int quantity) {}

  /**
   * A player buys {@code quantity} of an item at the catalogue's {@code unitPrice}: the price comes
   * from the server's catalogue, never from the request.
   */
  record Purchase(String itemId, int quantity, long unitPrice) implements PlayerCommand {}

  /**
   * A match's result for this player, one part of the match's result transaction. The server
   * computed {@code expected} (this player's expected score from the teams' average ratings at
   * match time); the player's own games in the queue choose the K ({@link RatingRules}). The reward
   * is the queue's for this outcome. Only the result coordinator builds it.
   */
  record RateMatch(
      String matchId,
      String queue,
      Outcome outcome,
      double expected,
      RatingRules rules,
      long gold,
      long experience)
      implements PlayerCommand {}

  /**
   * A queue's Elo rules: a player without games starts at {@code initial}; the first {@code
   * provisionalGames} games move by {@code provisionalK}, later ones by {@code k}.
   */
  record RatingRules(int initial, int k, int provisionalK, int provisionalGames) {
    /** The largest K a player takes, and the highest rating (a starting one too). */
    public static final int MAX_K = 400, MAX_RATING = 100_000;
  }

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
