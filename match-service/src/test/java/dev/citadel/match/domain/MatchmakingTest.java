package dev.citadel.match.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class MatchmakingTest {
  static final SkillWindow WINDOW = new SkillWindow(100, 25, 1000, 60_000);

  static Ticket t(String id, int elo, long at) {
    return new Ticket(id, elo, at, id);
  }

  @Test
  void a_tick_that_may_take_fewer_groups_than_fit_takes_the_longest_waits_first() {
    List<Ticket> queue = new ArrayList<>();
    // Five groups of ten at distinct Elo bands; the group at 3000 waited longest, then 1000.
    long[] since = {50, 10, 40, 30, 20};
    for (int g = 0; g < 5; g++) {
      for (int i = 0; i < 10; i++) {
        queue.add(t("g" + g + "-" + i, 1000 * (g + 1) + i, since[g] + i));
      }
    }
    queue.sort(Matchmaking.BY_ELO);
    List<Matchmaking.Group> all = Matchmaking.formSorted(queue, 100, WINDOW, 10, 10);
    assertThat(all).hasSize(5);
    List<Matchmaking.Group> two = Matchmaking.formSorted(queue, 100, WINDOW, 10, 2);
    // g1 (since 10) and g4 (since 20), in Elo order, each as formed without the bound.
    assertThat(two).containsExactly(all.get(1), all.get(4));
    assertThat(Matchmaking.formSorted(queue, 100, WINDOW, 10, 0)).isEmpty();
  }

  @Test
  void the_window_widens_with_waiting_up_to_its_cap() {
    assertThat(WINDOW.allowedSpread(0)).isEqualTo(100);
    assertThat(WINDOW.allowedSpread(4_000)).isEqualTo(200);
    assertThat(WINDOW.allowedSpread(59_999)).isEqualTo(1000);
  }

  @Test
  void after_the_maximum_wait_even_the_far_ends_of_the_range_get_a_match() {
    List<Ticket> outliers = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      outliers.add(t("o" + i, i * 500, 0)); // spread 4500, far beyond the cap
    }
    assertThat(Matchmaking.form(outliers, 59_000, WINDOW, 10)).isEmpty();
    assertThat(Matchmaking.form(outliers, 60_000, WINDOW, 10)).hasSize(1);
  }

  @Test
  void ten_close_players_form_a_match_and_far_ones_wait() {
    List<Ticket> queue = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      queue.add(t("close" + i, 1500 + i * 5, 0));
    }
    queue.add(t("far", 2500, 0));
    var groups = Matchmaking.form(queue, 0, WINDOW, 10);
    assertThat(groups)
        .singleElement()
        .satisfies(
            g -> {
              assertThat(g.players()).extracting(Ticket::playerId).doesNotContain("far");
              assertThat(g.spread()).isEqualTo(45);
            });
  }

  @Test
  void a_wide_group_waits_until_its_oldest_member_has_waited_enough() {
    List<Ticket> queue = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      queue.add(t("p" + i, 1000 + i * 30, 0)); // spread 270
    }
    // Window after 5 s: 225 < 270, they wait. After 10 s: 350 >= 270, a match.
    assertThat(Matchmaking.form(queue, 5_000, WINDOW, 10)).isEmpty();
    assertThat(Matchmaking.form(queue, 10_000, WINDOW, 10)).hasSize(1);
  }

  @Test
  void every_player_is_in_at_most_one_group_and_spreads_fit() {
    Random r = new Random(5);
    List<Ticket> queue = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      queue.add(t("p" + i, (int) (1500 + r.nextGaussian() * 300), r.nextInt(30_000)));
    }
    long now = 30_000;
    var groups = Matchmaking.form(queue, now, WINDOW, 10);
    Set<String> seen = new HashSet<>();
    for (var g : groups) {
      assertThat(g.players()).hasSize(10);
      g.players().forEach(p -> assertThat(seen.add(p.playerId())).isTrue());
      long oldest = g.players().stream().mapToLong(Ticket::enqueuedAtMs).min().orElseThrow();
      assertThat(g.spread()).isLessThanOrEqualTo(WINDOW.allowedSpread(now - oldest));
    }
    assertThat(groups.size()).isGreaterThan(450);
  }

  @Test
  void teams_are_five_and_five_with_close_elo_sums() {
    List<Ticket> ten = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ten.add(t("p" + i, 1000 + i * 100, 0));
    }
    List<Integer> teams = Matchmaking.teams(ten);
    int[] sums = new int[2];
    int[] sizes = new int[2];
    for (int i = 0; i < 10; i++) {
      sums[teams.get(i)] += ten.get(i).elo();
      sizes[teams.get(i)]++;
    }
    assertThat(sizes).containsExactly(5, 5);
    assertThat(Math.abs(sums[0] - sums[1])).isLessThanOrEqualTo(100);
  }

  @Test
  void the_selection_finds_what_sorting_would() {
    java.util.Random random = new java.util.Random(3);
    for (int round = 0; round < 300; round++) {
      int n = 1 + random.nextInt(200);
      long[] values = new long[n];
      for (int i = 0; i < n; i++) {
        // Few distinct values in some rounds (many equal waits), many in others; sorted ones too.
        values[i] = round % 3 == 0 ? random.nextInt(4) : round % 3 == 1 ? random.nextLong() : i;
      }
      long[] sorted = values.clone();
      java.util.Arrays.sort(sorted);
      int k = random.nextInt(n);
      assertThat(Matchmaking.smallest(values.clone(), k))
          .as("round %d", round)
          .isEqualTo(sorted[k]);
    }
  }
}
