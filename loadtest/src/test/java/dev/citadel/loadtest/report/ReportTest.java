package dev.citadel.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.citadel.loadtest.observe.MatchObserver;
import dev.citadel.loadtest.observe.MetricsSampler;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

  /** 30 players queued at t=0; three matches sent, two of them seated at 2 s and 3 s. */
  static BulkResult sample() {
    List<MatchObserver.Match> matches = new ArrayList<>();
    for (int m = 0; m < 3; m++) {
      List<MatchedPlayer> players = new ArrayList<>();
      for (int p = 0; p < 10; p++) {
        players.add(
            MatchedPlayer.newBuilder()
                .setPlayerId("lt-" + (m * 10 + p))
                .setElo(1500 + p * (m + 1))
                .setEnqueuedAtEpochMs(1_000)
                .build());
      }
      MatchObserver.Seat seat =
          m == 2
              ? null
              : new MatchObserver.Seat(
                  0,
                  m,
                  3_000 + m * 1_000,
                  players.stream().map(MatchedPlayer::getPlayerId).toList());
      matches.add(new MatchObserver.Match("m" + m, players, 1_500, seat));
    }
    MetricsSampler.Point counters =
        new MetricsSampler.Point(5_000, 0, 3, 3, 0, 2, 0, 2, 1, 0, 0.6, 1.2);
    List<MetricsSampler.Point> samples =
        List.of(
            new MetricsSampler.Point(1_500, 30, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.2),
            new MetricsSampler.Point(2_500, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0.3, 0.6));
    return BulkResult.of(
        30,
        10,
        30,
        0,
        1_000,
        1_200,
        List.of(new long[] {1_200, 30}),
        matches,
        30,
        20,
        0,
        counters,
        samples);
  }

  @Test
  void a_warm_up_round_is_reported_apart_below_the_measured_one() {
    String md = Report.markdown("t", sample(), sample(), null);
    assertThat(md)
        .containsSubsequence(
            "| wall time, first enqueue to last room |",
            "Before it, on the same platform, a warm-up round of 30 players",
            "CPU a 1,000 players 20000 ms match-service, 40000 ms game-state (both instances)",
            "Counted at every stage");
    assertThat(Report.markdown("t", null, sample(), null)).doesNotContain("warm-up round");
  }

  @Test
  void gives_each_services_cpu_a_thousand_players_from_its_counters() {
    // 0.6 s and 1.2 s of CPU for 30 players: 20 and 40 s a 1,000.
    assertThat(sample().cpuMsPerThousand()[0]).isCloseTo(20_000.0, within(1e-6));
    assertThat(sample().cpuMsPerThousand()[1]).isCloseTo(40_000.0, within(1e-6));
    assertThat(Report.markdown("t", null, sample(), null))
        .contains(
            "| CPU a 1,000 players: match-service / game-state (both instances) | 20000 / 40000 ms |");
  }

  @Test
  void counts_every_stage_and_the_players_without_a_room_as_lost() {
    BulkResult r = sample();
    assertThat(r.queued()).isEqualTo(30);
    assertThat(r.matched()).isEqualTo(30);
    assertThat(r.sent()).isEqualTo(30);
    assertThat(r.received()).isEqualTo(20);
    assertThat(r.rooms()).isEqualTo(2);
    assertThat(r.seated()).isEqualTo(20);
    assertThat(r.lost()).isEqualTo(10);
    assertThat(r.seatedMatches()).isEqualTo(2);
    assertThat(r.wallSeconds()).isEqualTo(3.0);
    assertThat(r.enqueueToRoomSeconds()).hasSize(20).containsOnly(2.0, 3.0);
    assertThat(r.eloSpreads()).containsExactlyInAnyOrder(9, 18);
  }

  @Test
  void writes_the_markdown_and_four_readable_charts(@TempDir Path dir) throws Exception {
    HttpResult http =
        new HttpResult(
            20,
            10,
            29,
            false,
            List.of(
                new HttpResult.RequestStats("warm-up: sign up", 10, 0, 0, 5, 6, 7, 8, 9),
                new HttpResult.RequestStats("sign up", 20, 3, 2, 75, 90, 120, 150, 160)),
            "gatling/run");
    String md = Report.write(dir, "Citadel load test t1", null, sample(), http);

    assertThat(md)
        .contains("## Bulk path: 30 players -> 2 matches and rooms")
        .contains("| **players lost** | **10** |")
        .contains("| in rooms | 20 |")
        .contains("| sign up | 20 | 2 | 1 | 75 | 90 | 120 | 150 | 160 |")
        .contains("**29 of 30 players finished")
        .contains("Before them, 10 warm-up players")
        .containsSubsequence(
            "| sign up | 20 |", "Before them", "| warm-up: sign up | 10 | 0 | 0 | 5 | 6 |")
        .contains("![throughput](throughput.png)");
    assertThat(Files.readString(dir.resolve("report.md"))).isEqualTo(md);
    for (String chart :
        List.of(Charts.THROUGHPUT, Charts.LATENCY, Charts.SPREAD, Charts.QUEUE_DEPTH)) {
      BufferedImage image = ImageIO.read(dir.resolve(chart).toFile());
      assertThat(image).as(chart).isNotNull();
      assertThat(image.getWidth()).isEqualTo(Charts.WIDTH);
    }
  }
}
