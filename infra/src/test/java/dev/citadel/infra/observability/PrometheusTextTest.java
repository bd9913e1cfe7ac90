package dev.citadel.infra.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
  static final String SCRAPE =
      """
      # HELP citadel_match_queue_depth players waiting in the queue
      # TYPE citadel_match_queue_depth gauge
      citadel_match_queue_depth{instance="match-local",queue="casual",service="match-service"} 3.0
      citadel_match_queue_depth{instance="match-local",queue="ranked",service="match-service"} 1234.0
      citadel_matches_sent_total{outcome="sent",service="match-service"} 99.0
      citadel_matches_sent_total{outcome="failed",service="match-service"} 1.0
      process_uptime_seconds 12.5
      http_server_requests_seconds_bucket{le="+Inf",uri="/a,b \\"c\\""} 7
      """;

  @Test
  void picks_samples_by_name_and_labels() {
    List<PrometheusText.Sample> samples = PrometheusText.parse(SCRAPE);
    assertThat(PrometheusText.sum(samples, "citadel_match_queue_depth", Map.of("queue", "ranked")))
        .isEqualTo(1234.0);
    assertThat(PrometheusText.sum(samples, "citadel_match_queue_depth", Map.of()))
        .isEqualTo(1237.0);
    assertThat(PrometheusText.sum(samples, "citadel_matches_sent_total", Map.of("outcome", "sent")))
        .isEqualTo(99.0);
    assertThat(PrometheusText.sum(samples, "process_uptime_seconds", Map.of())).isEqualTo(12.5);
    assertThat(PrometheusText.sum(samples, "missing_total", Map.of())).isZero();
  }

  @Test
  void reads_quoted_label_values_with_commas_and_escapes() {
    PrometheusText.Sample bucket = PrometheusText.parse(SCRAPE).get(5);
    assertThat(bucket.labels()).containsEntry("le", "+Inf").containsEntry("uri", "/a,b \"c\"");
    assertThat(bucket.value()).isEqualTo(7);
  }
}
