package dev.citadel.gamestate.results;

import dev.citadel.gamestate.player.Outcome;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.protocol.match.v1.Result;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A result as one transaction's steps: each player's {@code rate-match} with their expected score
 * (from the teams' average ratings at match time), their outcome and their queue's reward. Pure.
 */
public final class ResultPlan {
  /** Expected scores travel as integers: parts per million. */
  public static final double PPM = 1_000_000.0;

  private ResultPlan() {}

  public static Outcome outcome(Result result, int team) {
    return switch (result) {
      case RESULT_TEAM_0_WON -> team == 0 ? Outcome.WIN : Outcome.LOSS;
      case RESULT_TEAM_1_WON -> team == 1 ? Outcome.WIN : Outcome.LOSS;
      case RESULT_DRAW -> Outcome.DRAW;
      default -> throw new IllegalArgumentException("no outcome for " + result);
    };
  }

  public static List<Step> steps(
      String matchId, String queue, List<MatchedPlayer> lineup, Result result, QueueRules rules) {
    Map<String, Double> expected =
        Elo.expectations(
            lineup.stream()
                .map(p -> new Elo.Seat(p.getPlayerId(), p.getTeam(), p.getElo()))
                .toList());
    List<Step> steps = new ArrayList<>();
    for (MatchedPlayer p : lineup) {
      Outcome outcome = outcome(result, p.getTeam());
      QueueRules.Reward reward = rules.reward(outcome);
      Map<String, Object> args = new LinkedHashMap<>();
      args.put("matchId", matchId);
      args.put("queue", queue);
      args.put("outcome", outcome.name());
      args.put("expectedPpm", Math.round(expected.get(p.getPlayerId()) * PPM));
      args.put("initialRating", rules.initialRating());
      args.put("k", rules.k());
      args.put("provisionalK", rules.provisionalK());
      args.put("provisionalGames", rules.provisionalGames());
      args.put("gold", reward.gold());
      args.put("experience", reward.experience());
      steps.add(new Step(p.getPlayerId(), "rate-match", args));
    }
    return steps;
  }
}
