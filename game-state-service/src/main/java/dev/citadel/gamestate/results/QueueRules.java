package dev.citadel.gamestate.results;

import dev.citadel.gamestate.player.Outcome;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerCommand.RatingRules;

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
      if (gold > Player.MAX_AMOUNT || experience > Player.MAX_AMOUNT) {
        throw new IllegalArgumentException(
            "a reward is at most " + Player.MAX_AMOUNT + " gold and experience");
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
    // The bounds every player holds a rating change to: rules past them were refused by each
    // player only after the match's end was recorded, so every result of the queue failed for
    // good (a 400 to the game server) instead of the service refusing to start.
    if (k > RatingRules.MAX_K
        || provisionalK > RatingRules.MAX_K
        || initialRating > RatingRules.MAX_RATING) {
      throw new IllegalArgumentException(
          "K is at most "
              + RatingRules.MAX_K
              + " and the initial rating at most "
              + RatingRules.MAX_RATING);
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
