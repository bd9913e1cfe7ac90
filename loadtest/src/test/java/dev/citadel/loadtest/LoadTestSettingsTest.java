package dev.citadel.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;

class LoadTestSettingsTest {

  @Test
  void defaults_are_the_reference_scenario() {
    Settings s = Settings.parse(List.of(), Clock.systemUTC());
    assertThat(s.players()).isEqualTo(100_000);
    assertThat(s.httpPlayers()).isEqualTo(200);
    assertThat(s.attach()).isFalse();
    assertThat(s.out().getParent()).isEqualTo(Path.of("loadtest-reports"));
    assertThat(s.rampSeconds()).isEqualTo(40);
    assertThat(s.warmUpPlayers()).isEqualTo(50);
    assertThat(s.bulkWarmUpPlayers()).as("a round as large as the measured one").isEqualTo(100_000);
  }

  @Test
  void the_bulk_warm_up_round_is_whole_matches_and_can_be_left_out() {
    assertThat(bulkWarmUp("--bulk-warm-up-players", "15")).isEqualTo(10);
    assertThat(bulkWarmUp("--bulk-warm-up-players", "0")).isZero();
    assertThat(bulkWarmUp("--players", "2000")).isEqualTo(2000);
    assertThat(bulkWarmUp("--players", "500000"))
        .as("both rounds keep their rooms: the warm-up stays small beside a large run")
        .isEqualTo(100_000);
  }

  @Test
  void players_are_rounded_down_to_whole_matches() {
    Settings s =
        Settings.parse(
            List.of(
                "--players",
                "1234",
                "--http-players",
                "25",
                "--out",
                "x",
                "--attach",
                "--ramp-seconds",
                "3",
                "--warm-up-players",
                "15"),
            Clock.systemUTC());
    assertThat(s.players()).isEqualTo(1230);
    assertThat(s.httpPlayers()).isEqualTo(20);
    assertThat(s.out()).isEqualTo(Path.of("x"));
    assertThat(s.attach()).isTrue();
    assertThat(s.rampSeconds()).isEqualTo(3);
    assertThat(s.warmUpPlayers()).as("whole matches").isEqualTo(10);
  }

  @Test
  void an_unknown_option_is_refused() {
    assertThatThrownBy(() -> Settings.parse(List.of("--plyers", "10"), Clock.systemUTC()))
        .hasMessageContaining("--plyers");
  }

  @Test
  void the_progress_bar_fills_with_the_share_done() {
    assertThat(ProgressBar.render("in rooms", 50, 200, 1.5, "x"))
        .isEqualTo("in rooms [########......................]  25% 50/200    1.5 s  x");
    assertThat(ProgressBar.render("in rooms", 200, 200, 9, ""))
        .startsWith("in rooms [##############################] 100% 200/200");
  }

  private static int bulkWarmUp(String... args) {
    return Settings.parse(List.of(args), Clock.systemUTC()).bulkWarmUpPlayers();
  }
}
