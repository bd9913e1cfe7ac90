package dev.citadel.loadtest.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.loadtest.report.HttpResult;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** Refusals counted by the simulation, joined with Gatling's figures, and what passes. */
class GatlingRunTest {

  static HttpResult.RequestStats stats(String name, long ok, long ko) {
    return new HttpResult.RequestStats(name, ok, ko, 0, 1, 1, 1, 1, 1);
  }

  static final List<HttpResult.RequestStats> GATLING =
      List.of(stats("sign up", 200, 7), stats("queue", 200, 0));

  @Test
  void each_request_gets_its_refusals() {
    Properties outcome = new Properties();
    outcome.setProperty("refused.sign up", "7");
    outcome.setProperty("finished", "200");

    List<HttpResult.RequestStats> counted = GatlingRun.refusals(GATLING, outcome);

    assertThat(counted).extracting(HttpResult.RequestStats::refused).containsExactly(7L, 0L);
    assertThat(counted).allMatch(r -> r.failed() == 0);
    assertThat(GatlingRun.passed(200, 200, counted)).isTrue();
  }

  @Test
  void a_ko_that_was_not_a_refusal_fails_the_run() {
    Properties outcome = new Properties();
    outcome.setProperty("refused.sign up", "6");

    List<HttpResult.RequestStats> counted = GatlingRun.refusals(GATLING, outcome);

    assertThat(counted.get(0).failed()).isEqualTo(1);
    assertThat(GatlingRun.passed(200, 200, counted)).isFalse();
  }

  @Test
  void a_player_who_did_not_finish_fails_the_run_even_with_no_ko() {
    List<HttpResult.RequestStats> none = List.of(stats("sign up", 200, 0));

    assertThat(GatlingRun.passed(200, 199, GatlingRun.refusals(none, new Properties()))).isFalse();
  }
}
