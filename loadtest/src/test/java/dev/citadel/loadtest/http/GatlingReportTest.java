package dev.citadel.loadtest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.loadtest.report.HttpResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Against a real report of Gatling 3.14 (50 players of the full path). */
class GatlingReportTest {

  static String fixture() throws Exception {
    try (var in = GatlingReportTest.class.getResourceAsStream("/gatling-3.14-index.html")) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void reads_every_request_and_the_total_from_the_statistics_table() throws Exception {
    List<HttpResult.RequestStats> stats = GatlingReport.read(fixture());
    assertThat(stats)
        .extracting(HttpResult.RequestStats::name)
        .containsExactly(
            "sign up",
            "log in",
            "connect",
            "connected",
            "queue",
            "match.room-assigned",
            "room assigned",
            "status",
            "close",
            "All Requests");
    HttpResult.RequestStats signUp = stats.get(0);
    assertThat(signUp.ok()).isEqualTo(50);
    assertThat(signUp.ko()).isZero();
    assertThat(signUp.p50()).isEqualTo(3877);
    assertThat(signUp.p75()).isEqualTo(4156);
    assertThat(signUp.p95()).isEqualTo(4363);
    assertThat(signUp.p99()).isEqualTo(4516);
    assertThat(signUp.max()).isEqualTo(4516);
    assertThat(signUp.mean()).isEqualTo(3842);
    HttpResult.RequestStats all = stats.get(stats.size() - 1);
    assertThat(all.ok()).isEqualTo(450);
    assertThat(all.p99()).isEqualTo(4313);
  }

  @Test
  void a_page_without_the_table_is_an_error_not_an_empty_result() {
    assertThatThrownBy(() -> GatlingReport.read("<html></html>"))
        .hasMessageContaining("no statistics table");
  }
}
