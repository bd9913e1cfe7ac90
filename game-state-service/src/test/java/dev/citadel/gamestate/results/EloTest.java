package dev.citadel.gamestate.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EloTest {
  @Test
  void every_player_expects_what_their_team_average_expects_against_the_other() {
    Map<String, Double> e =
        Elo.expectations(
            List.of(
                new Elo.Seat("a", 0, 1100),
                new Elo.Seat("b", 0, 1300),
                new Elo.Seat("c", 1, 1300),
                new Elo.Seat("d", 1, 1500)));
    // averages 1200 vs 1400: 1 / (1 + 10^(200/400)) = 0.2403
    assertThat(e.get("a")).isCloseTo(0.2403, within(1e-4));
    assertThat(e.get("b")).isEqualTo(e.get("a"));
    assertThat(e.get("c")).isCloseTo(1 - 0.2403, within(1e-4));
    assertThat(Elo.expected(1500, 1500)).isEqualTo(0.5);
  }
}
