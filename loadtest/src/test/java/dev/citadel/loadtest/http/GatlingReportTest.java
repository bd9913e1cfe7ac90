package dev.citadel.loadtest.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.loadtest.report.HttpResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Against a real report of Gatling 3.14 (its statistics tables, trimmed of their charts): 200
 * players of the full path with member-service's bcrypt queue at one per thread and everyone
 * arriving within 2 s, so sign-up and log-in were refused (KO) and sent again.
 */
class GatlingReportTest {

  static String fixture(String name) {
    try (InputStream in = GatlingReportTest.class.getResourceAsStream("/gatling-3.14/" + name)) {
      return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<HttpResult.RequestStats> read() {
    return GatlingReport.read(fixture("index.html"), id -> fixture(id + ".html"));
  }

  @Test
  void reads_every_request_in_order_from_its_own_page() {
    assertThat(read())
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
            "close");
  }

  @Test
  void counts_ok_and_ko_apart_and_takes_the_latencies_of_ok_requests_only() {
    HttpResult.RequestStats signUp = read().get(0);
    assertThat(signUp.ok()).isEqualTo(200);
    assertThat(signUp.ko()).isEqualTo(180);
    // The page's OK column; its Total column (OK and KO together) says 2633 / 10727.
    assertThat(signUp.p50()).isEqualTo(3142);
    assertThat(signUp.p75()).isEqualTo(5386);
    assertThat(signUp.p95()).isEqualTo(8646);
    assertThat(signUp.p99()).isEqualTo(10768);
    assertThat(signUp.max()).isEqualTo(10970);
  }

  @Test
  void a_missing_page_or_table_is_an_error_not_an_empty_result() {
    assertThatThrownBy(() -> GatlingReport.read("<html></html>", id -> null))
        .hasMessageContaining("no statistics table");
    assertThatThrownBy(() -> GatlingReport.read(fixture("index.html"), id -> null))
        .hasMessageContaining("no page req_sign-up");
    assertThatThrownBy(() -> GatlingReport.read(fixture("index.html"), id -> "<html></html>"))
        .hasMessageContaining("no row 'Total count'");
  }
}
