package dev.citadel.loadtest.observe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.citadel.infra.observability.PrometheusText;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetricsSamplerTest {
  static List<PrometheusText.Sample> scrape(String text) {
    return PrometheusText.parse(text);
  }

  @Test
  void sums_each_instances_cpu_and_says_nan_when_one_did_not_report_it() {
    List<PrometheusText.Sample> both = new ArrayList<>(scrape("process_cpu_time_ns_total 1.5E9\n"));
    both.addAll(scrape("process_cpu_time_ns_total 2.5E9\nother_total 1\n"));
    assertThat(MetricsSampler.cpuSeconds(both, 2)).isCloseTo(4.0, within(1e-9));

    List<PrometheusText.Sample> one = new ArrayList<>(scrape("process_cpu_time_ns_total 1.5E9\n"));
    one.addAll(scrape("other_total 1\n"));
    assertThat(MetricsSampler.cpuSeconds(one, 2)).isNaN();
  }
}
