package dev.citadel.loadtest.report;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {

  @Test
  void nearest_rank_percentiles() {
    List<Integer> values = List.of(5, 1, 4, 2, 3, 6, 7, 8, 9, 10);
    assertThat(Stats.percentile(values, 50)).isEqualTo(5);
    assertThat(Stats.percentile(values, 99)).isEqualTo(10);
    assertThat(Stats.percentile(values, 100)).isEqualTo(10);
    assertThat(Stats.percentile(values, 10)).isEqualTo(1);
    assertThat(Stats.percentile(List.<Integer>of(), 50)).isNaN();
  }

  @Test
  void histogram_bins_by_lower_edge() {
    assertThat(Stats.histogram(List.of(0.1, 0.4, 0.6, 2.2), 0.5))
        .containsExactly(
            java.util.Map.entry(0.0, 2L),
            java.util.Map.entry(0.5, 1L),
            java.util.Map.entry(2.0, 1L));
  }

  @Test
  void per_second_has_every_second_even_empty_ones() {
    List<long[]> events =
        List.of(new long[] {1_000, 10}, new long[] {1_500, 5}, new long[] {3_100, 7});
    assertThat(Stats.perSecond(events, 1_000, 4_000)).containsExactly(15L, 0L, 7L);
  }
}
