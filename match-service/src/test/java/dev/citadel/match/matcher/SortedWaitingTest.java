package dev.citadel.match.matcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.match.domain.Matchmaking;
import dev.citadel.match.domain.Ticket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The array copy equals a sorted set given the same joins, re-joins and leaves (and finds exactly
 * the players waiting by id), across its index's and text's growth and reuse.
 */
class SortedWaitingTest {
  @Test
  void any_mix_of_changes_settles_to_the_waiting_players_in_elo_order() {
    settlesInOrder(n -> "p" + n);
  }

  /**
   * The search compares the ids' first four characters as a number before the whole id: ids that
   * share them, are shorter than four, hold a zero or a character above 0x7fff still sort as the
   * ids do.
   */
  @Test
  void ids_alike_in_their_first_characters_sort_as_strings_do() {
    String[] heads = {
      "same",
      "sam",
      "sa",
      "s",
      "",
      "s\u00e9",
      "\uffffz",
      "ab\u0000",
      "ab",
      "samesame",
      "samesam",
      "samesam\u0000",
      "sames\uffff"
    };
    settlesInOrder(n -> heads[n % heads.length] + (n % 7 == 0 ? "" : Integer.toString(n / 9)));
  }

  /**
   * Ids longer than the copy's fixed width, or with characters beyond Latin-1, are kept beside the
   * arrays and still sort, compare and are found as the others.
   */
  @Test
  void ids_too_long_or_beyond_latin_1_are_kept_beside_and_sort_as_strings_do() {
    String wide = "w".repeat(SortedWaiting.ID_WIDTH);
    String[] heads = {wide, wide + "x", wide.substring(1) + "\u0100", "w\u20ac", "ww", "w\u00ff"};
    settlesInOrder(n -> heads[n % heads.length] + (n % 5 == 0 ? "" : Integer.toString(n / 6)));
  }

  @Test
  void the_prefix_orders_as_the_strings_do() {
    String[] ids = {
      "", "a", "a\u0000", "a\u0000\u0000x", "ab", "abc", "abcd", "abcde", "\u8000", "\uffff"
    };
    for (String a : ids) {
      for (String b : ids) {
        int prefixOrder = Long.compareUnsigned(SortedWaiting.prefix(a), SortedWaiting.prefix(b));
        if (prefixOrder != 0) {
          assertThat(Integer.signum(prefixOrder))
              .as("%s vs %s", a, b)
              .isEqualTo(Integer.signum(a.compareTo(b)));
        }
      }
    }
  }

  private static void settlesInOrder(java.util.function.IntFunction<String> name) {
    Random random = new Random(42);
    SortedWaiting waiting = new SortedWaiting();
    Map<String, Ticket> expected = new HashMap<>();
    for (int round = 0; round < 200; round++) {
      for (int c = 0; c < random.nextInt(60); c++) {
        String player = name.apply(random.nextInt(300)); // few players: re-joins and leaves
        if (random.nextInt(3) == 0) {
          waiting.remove(player);
          expected.remove(player);
        } else {
          // Often the same Elo again (a requeue), sometimes another.
          Ticket t = new Ticket(player, 1000 + random.nextInt(20), round, "n");
          waiting.put(t);
          expected.put(player, t);
        }
      }
      if (round == 120) {
        waiting.clear(); // as a whole read does: everything again from nothing
        expected.clear();
      }
      waiting.settle();
      for (int n = 0; n < 300; n++) {
        String player = name.apply(n);
        assertThat(waiting.contains(player)).as(player).isEqualTo(expected.containsKey(player));
      }
      TreeSet<Ticket> sorted = new TreeSet<>(Matchmaking.BY_ELO);
      for (Ticket t : expected.values()) {
        sorted.add(new Ticket(t.playerId(), t.elo(), t.enqueuedAtMs(), null)); // kept: no nickname
      }
      assertThat(waiting.list()).as("round %d", round).containsExactlyElementsOf(sorted);
      assertThat(waiting.size()).isEqualTo(expected.size());
      assertThat(waiting.waiting()).isEqualTo(expected.size());
      List<Ticket> tickets = new ArrayList<>(sorted);
      for (int i = 0; i < tickets.size(); i++) {
        assertThat(waiting.elos()[i]).isEqualTo(tickets.get(i).elo());
        assertThat(waiting.since()[i]).isEqualTo(tickets.get(i).enqueuedAtMs());
      }
    }
  }
}
