package dev.citadel.gamestate.results;

import dev.citadel.gamestate.player.Outcome;

/**
 * A queue's ratings and rewards: Elo with a larger K for a player's first {@code provisionalGames}
 * games, and the gold and experience each outcome earns.
 */
public record QueueRules(
    int initialRating,
    int k,
    int provisionalK,
    int provisionalGames,
    Reward win,
    Reward loss,
    Reward draw) {
  /** What an outcome earns. */
  public record Reward(long gold, long experience) {
    public Reward {
      if (gold < 0 || experience < 0) {
        throw new IllegalArgumentException("a reward is never negative");
      }
    }
  }

  public QueueRules {
    if (win == null || loss == null || draw == null) {
      throw new IllegalArgumentException(
          "a queue's rules name the reward of a win, a loss and a draw");
    }
    if (k < 0 || provisionalK < 0 || provisionalGames < 0 || initialRating < 0) {
      throw new IllegalArgumentException("ratings rules are never negative");
    }
  }

  public Reward reward(Outcome outcome) {
    return switch (outcome) {
      case WIN -> win;
      case LOSS -> loss;
      case DRAW -> draw;
    };
  }
}
