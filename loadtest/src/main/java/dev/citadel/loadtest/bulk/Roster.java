package dev.citadel.loadtest.bulk;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** The players of one run: ids unique to the run, Elo ~ N(1500, 300) as in the reference test. */
public final class Roster {
  private Roster() {}

  /** One generated player. */
  public record Player(String id, String nickname, int elo) {}

  /** {@code count} players named after {@code runId}; the same seed gives the same ratings. */
  public static List<Player> generate(String runId, int count, long seed) {
    Random random = new Random(seed);
    List<Player> players = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int elo = (int) Math.round(1500 + random.nextGaussian() * 300);
      players.add(new Player(runId + "-" + i, "lt" + i, Math.max(0, elo)));
    }
    return players;
  }

  /** Splits into request-sized batches. */
  public static <T> List<List<T>> batches(List<T> all, int size) {
    List<List<T>> out = new ArrayList<>();
    for (int from = 0; from < all.size(); from += size) {
      out.add(all.subList(from, Math.min(all.size(), from + size)));
    }
    return out;
  }
}
