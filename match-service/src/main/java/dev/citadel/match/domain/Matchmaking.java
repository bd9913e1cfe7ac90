package dev.citadel.match.domain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Forming matches from a snapshot of one queue. Pure: the loop that reads Redis calls it, and tests
 * call it directly.
 */
public final class Matchmaking {
  private Matchmaking() {}

  /** A group of players for one match, split into two teams. */
  public record Group(List<Ticket> players, List<Integer> teams, int spread) {}

  /**
   * Walks the queue in Elo order and takes every run of {@code size} neighbours (the closest
   * players there are) whose spread fits the window of its longest-waiting member.
   */
  public static List<Group> form(List<Ticket> queue, long nowMs, SkillWindow window, int size) {
    List<Ticket> byElo = new ArrayList<>(queue);
    byElo.sort(Comparator.comparingInt(Ticket::elo).thenComparing(Ticket::playerId));
    List<Group> groups = new ArrayList<>();
    int i = 0;
    while (i + size <= byElo.size()) {
      List<Ticket> run = byElo.subList(i, i + size);
      int spread = run.get(size - 1).elo() - run.get(0).elo();
      long oldest = run.stream().mapToLong(Ticket::enqueuedAtMs).min().orElse(nowMs);
      if (spread <= window.allowedSpread(nowMs - oldest)) {
        groups.add(new Group(List.copyOf(run), teams(run), spread));
        i += size;
      } else {
        i++;
      }
    }
    return groups;
  }

  /**
   * Two teams of equal size with close Elo sums: a snake draft from the strongest down (A B B A A B
   * B A ...). Returns each player's team, in the order of {@code players}.
   */
  public static List<Integer> teams(List<Ticket> players) {
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < players.size(); i++) {
      order.add(i);
    }
    order.sort(Comparator.comparingInt((Integer i) -> players.get(i).elo()).reversed());
    Integer[] team = new Integer[players.size()];
    for (int pick = 0; pick < order.size(); pick++) {
      int round = pick % 4;
      team[order.get(pick)] = (round == 0 || round == 3) ? 0 : 1;
    }
    return List.of(team);
  }
}
