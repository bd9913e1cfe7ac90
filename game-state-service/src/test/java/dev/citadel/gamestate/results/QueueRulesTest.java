package dev.citadel.gamestate.results;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * A queue's rules past what a player takes stop the service at start: refused by each player, they
 * failed every result of the queue, and only after its end was recorded.
 */
class QueueRulesTest {
  static final QueueRules.Reward SOME = new QueueRules.Reward(10, 100);

  static QueueRules rules(int initial, int k, int provisionalK) {
    return new QueueRules(initial, k, provisionalK, 10, SOME, SOME, SOME);
  }

  @Test
  void rules_within_the_players_bounds_are_taken() {
    assertThatCode(() -> rules(100_000, 400, 400)).doesNotThrowAnyException();
    assertThatCode(() -> new QueueRules.Reward(1_000_000_000L, 1_000_000_000L))
        .doesNotThrowAnyException();
  }

  @Test
  void rules_past_the_players_bounds_are_refused() {
    assertThatThrownBy(() -> rules(1200, 401, 48)).hasMessageContaining("K is at most 400");
    assertThatThrownBy(() -> rules(1200, 24, 401)).hasMessageContaining("K is at most 400");
    assertThatThrownBy(() -> rules(100_001, 24, 48)).hasMessageContaining("initial rating");
    assertThatThrownBy(() -> new QueueRules.Reward(1_000_000_001L, 0))
        .hasMessageContaining("at most 1000000000");
    assertThatThrownBy(() -> new QueueRules.Reward(0, 1_000_000_001L))
        .hasMessageContaining("at most 1000000000");
  }
}
