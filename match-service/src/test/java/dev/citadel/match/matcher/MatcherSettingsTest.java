package dev.citadel.match.matcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.match.domain.SkillWindow;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A match has 2 to 100 players: a pop passes a group to single Redis calls (one Lua unpack). */
class MatcherSettingsTest {
  static final SkillWindow WINDOW = new SkillWindow(100, 25, 1000, 60_000);
  static final Duration FIVE = Duration.ofSeconds(5);

  @Test
  void a_match_has_two_to_a_hundred_players() {
    assertThatThrownBy(() -> new Matcher.Settings(1, WINDOW, FIVE, FIVE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                new Matcher.Settings(
                    Matcher.Settings.MAX_PLAYERS_PER_MATCH + 1, WINDOW, FIVE, FIVE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new Matcher.Settings(100, WINDOW, FIVE, FIVE).playersPerMatch()).isEqualTo(100);
  }

  /** A bound of none would make every tick "full" and run its queue's ticks back to back. */
  @Test
  void a_tick_may_take_at_least_one_match() {
    assertThatThrownBy(() -> new Matcher.Settings(10, WINDOW, FIVE, FIVE, 0))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(new Matcher.Settings(10, WINDOW, FIVE, FIVE, 1).maxMatchesPerTick()).isEqualTo(1);
  }
}
