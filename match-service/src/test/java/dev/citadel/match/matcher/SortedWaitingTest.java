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

/** The array copy equals a sorted set given the same joins, re-joins and leaves. */
class SortedWaitingTest {
  @Test
  void any_mix_of_changes_settles_to_the_waiting_players_in_elo_order() {
    Random random = new Random(42);
    SortedWaiting waiting = new SortedWaiting();
    Map<String, Ticket> expected = new HashMap<>();
    for (int round = 0; round < 200; round++) {
      for (int c = 0; c < random.nextInt(60); c++) {
        String player = "p" + random.nextInt(300); // few players: many re-joins and leaves
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
      waiting.settle();
      TreeSet<Ticket> sorted = new TreeSet<>(Matchmaking.BY_ELO);
      sorted.addAll(expected.values());
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
