package dev.citadel.gamestate.results;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Team Elo. Pure. */
public final class Elo {
  private Elo() {}

  /** A player in a match: their team (0 or 1) and rating at match time. */
  public record Seat(String playerId, int team, int rating) {}

  /** The expected score of a side rated {@code own} against one rated {@code opponents}. */
  public static double expected(double own, double opponents) {
    return 1.0 / (1.0 + Math.pow(10.0, (opponents - own) / 400.0));
  }

  /**
   * Each player's expected score, from the two teams' average ratings: everyone in a team expects
   * the same, so each player's change is their own K times the team's surprise.
   */
  public static Map<String, Double> expectations(List<Seat> seats) {
    double[] sum = new double[2];
    int[] count = new int[2];
    for (Seat s : seats) {
      if (s.team() != 0 && s.team() != 1) {
        throw new IllegalArgumentException("team must be 0 or 1, was " + s.team());
      }
      sum[s.team()] += s.rating();
      count[s.team()]++;
    }
    if (count[0] == 0 || count[1] == 0) {
      throw new IllegalArgumentException("a result needs two teams");
    }
    double[] average = {sum[0] / count[0], sum[1] / count[1]};
    Map<String, Double> expected = new LinkedHashMap<>();
    for (Seat s : seats) {
      expected.put(s.playerId(), expected(average[s.team()], average[1 - s.team()]));
    }
    return expected;
  }
}
