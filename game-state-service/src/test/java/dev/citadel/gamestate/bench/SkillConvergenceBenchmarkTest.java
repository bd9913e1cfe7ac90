package dev.citadel.gamestate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.gamestate.http.CommandParser;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.results.QueueRules;
import dev.citadel.gamestate.results.ResultPlan;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.protocol.match.v1.Result;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Do ratings find the players' real skill? 10,000 players with a hidden true skill (normal, mean
 * 1200, sd 200, 400, 800 and 1600 in turn) all start at the initial rating. Each round every player
 * plays one match: players are grouped ten by ten in rating order and split into two teams of close
 * rating sums (the matcher's rule, here as a pure function: not the Redis matcher), the winner is
 * drawn from the teams' average true skills (logistic, Elo's own model), and the result is applied
 * through the production code: {@link ResultPlan} steps, parsed as the participants parse them,
 * decided and applied by {@link Player}. Printed: the rank correlation between rating and true
 * skill after each round, the rounds needed to pass 0.9, results applied per second (in memory: the
 * domain alone, not the two-phase commit over HTTP), and the bound: the best correlation any rating
 * system could reach from that many 5 vs 5 results. The goal (0.9 within 30 rounds) is
 * above that bound unless true skill is spread wider than about 650 Elo points; see
 * docs/game-loop.md.
 *
 * <p>{@code ./mvnw -Pbenchmark -pl game-state-service -am test
 * -Dtest=SkillConvergenceBenchmarkTest}
 */
@Tag("benchmark")
class SkillConvergenceBenchmarkTest {
  static final int PLAYERS = 10_000;
  static final int ROUNDS = 30;
  static final QueueRules RULES =
      new QueueRules(
          1200,
          24,
          48,
          10,
          new QueueRules.Reward(100, 300),
          new QueueRules.Reward(25, 100),
          new QueueRules.Reward(50, 200));

  /** One run: the spread of true skill, the correlation after each round, the throughput. */
  record Run(double spread, double[] rho, int passed, double perSecond) {}

  @Test
  void ratings_rank_players_like_their_true_skill_within_thirty_rounds() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%nSkill convergence: %,d players, %d rounds, 5 vs 5, one match per player per round%n",
            PLAYERS, ROUNDS));
    out.append(
        "| true skill sd | bound after 30 | round 1 | 10 | 20 | 30 | rounds to 0.9 | results/s |\n");
    out.append("|---|---|---|---|---|---|---|---|\n");
    Run narrow = null;
    Run wide = null;
    for (double spread : new double[] {200, 400, 800, 1600}) {
      Run run = converge(spread);
      narrow = narrow == null ? run : narrow;
      wide = run;
      out.append(
          String.format(
              "| %.0f | %.2f | %.3f | %.3f | %.3f | %.3f | %s | %,.0f |%n",
              spread,
              bound(spread, ROUNDS),
              run.rho()[0],
              run.rho()[9],
              run.rho()[19],
              run.rho()[ROUNDS - 1],
              run.passed() < 0 ? "not within " + ROUNDS : Integer.toString(run.passed()),
              run.perSecond()));
    }
    out.append(
        "bound: the highest correlation any rating system can reach from that many team results "
            + "(Fisher information of a 50/50 game for one player of ten), results/s: in memory\n");
    System.out.print(out);
    // Ratings learn skill steadily in every spread, and come near what the results allow.
    assertThat(narrow.rho()[ROUNDS - 1])
        .as("ratings learn skill")
        .isGreaterThan(narrow.rho()[0] + 0.2);
    assertThat(wide.rho()[ROUNDS - 1])
        .as("wide spread: near the information bound")
        .isGreaterThan(bound(wide.spread(), ROUNDS) - 0.15);
  }

  /**
   * The correlation an unbiased estimate of one player's skill can reach at best after {@code
   * games} team results: each result carries at most a quarter of (ln 10 / 400 / 5)^2 of Fisher
   * information about one player of five (a 50/50 game, everyone else's skill known), so the
   * estimate's error is at least 1 / sqrt(information).
   */
  static double bound(double spread, int games) {
    double beta = Math.log(10) / 400 / 5;
    double error = 1 / Math.sqrt(games * 0.25 * beta * beta);
    return spread / Math.sqrt(spread * spread + error * error);
  }

  static Run converge(double spread) {
    Random random = new Random(42);
    double[] skill = new double[PLAYERS];
    PlayerState[] state = new PlayerState[PLAYERS];
    Instant t = Instant.parse("2026-12-03T00:00:00Z");
    for (int i = 0; i < PLAYERS; i++) {
      skill[i] = 1200 + spread * random.nextGaussian();
      state[i] =
          Player.replay(
              PlayerState.initial("p" + i),
              List.of(new PlayerEvent.PlayerCreated("p" + i, "player" + i, t)));
    }
    int passed = -1;
    double[] rhos = new double[ROUNDS];
    long results = 0;
    long nanos = 0;
    for (int round = 1; round <= ROUNDS; round++) {
      Integer[] order = new Integer[PLAYERS];
      for (int i = 0; i < PLAYERS; i++) {
        order[i] = i;
      }
      double[] jitter = random.doubles(PLAYERS).toArray(); // ties (everyone at 1200) at random
      final PlayerState[] now = state;
      Arrays.sort(
          order,
          Comparator.<Integer>comparingInt(i -> now[i].ratingIn("ranked", 1200).rating())
              .thenComparingDouble(i -> jitter[i]));
      for (int g = 0; g < PLAYERS; g += 10) {
        // Snake draft: 1st, 4th, 5th, 8th, 9th against the rest, sums close.
        List<MatchedPlayer> lineup = new ArrayList<>();
        double[] teamSkill = new double[2];
        for (int k = 0; k < 10; k++) {
          int p = order[g + k];
          int team = (k % 4 == 0 || k % 4 == 3) ? 0 : 1;
          teamSkill[team] += skill[p] / 5;
          lineup.add(
              MatchedPlayer.newBuilder()
                  .setPlayerId(Integer.toString(p))
                  .setTeam(team)
                  .setElo(state[p].ratingIn("ranked", 1200).rating())
                  .build());
        }
        double team0Wins = 1 / (1 + Math.pow(10, (teamSkill[1] - teamSkill[0]) / 400));
        Result result =
            random.nextDouble() < team0Wins ? Result.RESULT_TEAM_0_WON : Result.RESULT_TEAM_1_WON;
        String matchId = "r" + round + "-" + g;
        long started = System.nanoTime();
        for (Step step : ResultPlan.steps(matchId, "ranked", lineup, result, RULES)) {
          int p = Integer.parseInt(step.playerId());
          PlayerCommand command = CommandParser.participantCommand(step.command(), step.args());
          state[p] = Player.replay(state[p], Player.decide(command, state[p]));
        }
        nanos += System.nanoTime() - started;
        results++;
      }
      rhos[round - 1] = spearman(skill, state);
      if (passed < 0 && rhos[round - 1] > 0.9) {
        passed = round;
      }
    }
    return new Run(spread, rhos, passed, results / (nanos / 1e9));
  }

  /** Spearman's rank correlation between true skill and rating. */
  static double spearman(double[] skill, PlayerState[] state) {
    double[] ratings = new double[state.length];
    for (int i = 0; i < state.length; i++) {
      ratings[i] = state[i].ratingIn("ranked", 1200).rating();
    }
    return RankCorrelation.spearman(skill, ratings);
  }
}
