package dev.citadel.match.domain;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Forming matches from a snapshot of one queue. Pure: the loop that reads Redis calls it, and tests
 * call it directly.
 */
public final class Matchmaking {
  private Matchmaking() {}

  /**
   * A group of players for one match, in Elo order, and its spread. Its teams are drawn when the
   * match is handed over ({@link #teams}), from the players as the pop took them.
   */
  public record Group(List<Ticket> players, int spread) {}

  /**
   * Walks the queue in Elo order and takes every run of {@code size} neighbours (the closest
   * players there are) whose spread fits the window of its longest-waiting member.
   */
  public static List<Group> form(List<Ticket> queue, long nowMs, SkillWindow window, int size) {
    List<Ticket> byElo = new ArrayList<>(queue);
    byElo.sort(BY_ELO);
    return formSorted(byElo, nowMs, window, size, Integer.MAX_VALUE);
  }

  /** The order {@link #formSorted} expects: Elo, then player id. */
  public static final Comparator<Ticket> BY_ELO =
      Comparator.comparingInt(Ticket::elo).thenComparing(Ticket::playerId);

  /**
   * The same over a queue already in {@link #BY_ELO} order (the matcher keeps its copy sorted, so a
   * tick neither copies nor sorts a million players), taking at most {@code max} groups: if more
   * fit, those whose longest-waiting player has waited longest, so a tick that cannot take every
   * group serves the oldest waits first. Only the groups taken are built: a tick over a million
   * players that takes a few hundred does not allocate a hundred thousand.
   */
  public static List<Group> formSorted(
      Iterable<Ticket> byElo, long nowMs, SkillWindow window, int size, int max) {
    List<Ticket> list = new ArrayList<>();
    byElo.forEach(list::add);
    int n = list.size();
    int[] elos = new int[n];
    long[] since = new long[n];
    for (int i = 0; i < n; i++) {
      elos[i] = list.get(i).elo();
      since[i] = list.get(i).enqueuedAtMs();
    }
    return formSorted(list::get, elos, since, n, nowMs, window, size, max);
  }

  /**
   * The same over the first {@code n} of parallel arrays in {@link #BY_ELO} order (the matcher's
   * copy): the walk reads only the primitive arrays, and {@code ticketAt} is asked only for the
   * players of the groups taken.
   */
  public static List<Group> formSorted(
      IntFunction<Ticket> ticketAt,
      int[] elos,
      long[] since,
      int n,
      long nowMs,
      SkillWindow window,
      int size,
      int max) {
    if (max <= 0) {
      return List.of();
    }
    int[] starts = new int[n / size + 1];
    long[] oldestOf = new long[n / size + 1];
    int runs = 0;
    int i = 0;
    while (i + size <= n) {
      int spread = elos[i + size - 1] - elos[i];
      long oldest = Long.MAX_VALUE;
      for (int j = i; j < i + size; j++) {
        oldest = Math.min(oldest, since[j]);
      }
      if (spread <= window.allowedSpread(nowMs - oldest)) {
        starts[runs] = i;
        oldestOf[runs] = oldest;
        runs++;
        i += size;
      } else {
        i++;
      }
    }
    boolean[] taken = new boolean[runs];
    if (runs <= max) {
      java.util.Arrays.fill(taken, true);
    } else {
      // The max-th oldest wait: every run older is taken, then runs of exactly that age in order.
      long threshold = smallest(java.util.Arrays.copyOf(oldestOf, runs), max - 1);
      int left = max;
      for (int r = 0; r < runs && left > 0; r++) {
        if (oldestOf[r] < threshold) {
          taken[r] = true;
          left--;
        }
      }
      for (int r = 0; r < runs && left > 0; r++) {
        if (oldestOf[r] == threshold) {
          taken[r] = true;
          left--;
        }
      }
    }
    List<Group> groups = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      if (taken[r]) {
        Ticket[] group = new Ticket[size];
        for (int k = 0; k < size; k++) {
          group[k] = ticketAt.apply(starts[r] + k);
        }
        List<Ticket> players = List.of(group);
        groups.add(new Group(players, players.get(size - 1).elo() - players.get(0).elo()));
      }
    }
    return groups;
  }

  /**
   * The {@code k}-th smallest of {@code a} (from 0), reordering {@code a}: a selection in linear
   * time on average, where sorting the hundred thousand runs a million players make would not be.
   */
  static long smallest(long[] a, int k) {
    int lo = 0;
    int hi = a.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      // Median of three as the pivot: already ordered input stays linear.
      long x = a[lo];
      long y = a[mid];
      long z = a[hi];
      long pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (a[i] < pivot) {
          i++;
        }
        while (a[j] > pivot) {
          j--;
        }
        if (i <= j) {
          long t = a[i];
          a[i] = a[j];
          a[j] = t;
          i++;
          j--;
        }
      }
      if (k <= j) {
        hi = j;
      } else if (k >= i) {
        lo = i;
      } else {
        return a[k]; // between j and i: equal to the pivot
      }
    }
    return a[k];
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
