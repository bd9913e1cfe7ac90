package dev.citadel.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.observability.Dashboards;
import dev.citadel.infra.platform.LocalPlatform;
import dev.citadel.loadtest.report.Charts;
import dev.citadel.loadtest.report.HttpResult;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The load test at CI size against the real local platform (every service in its own JVM, as {@code
 * ./run-loadtest.sh} runs it, but C1 only and from the tests' class-data archives, as every service
 * a test starts): 2,000 players through the bulk path and 200 virtual players through the gateway
 * with Gatling. Then Prometheus, started by the platform against it, must answer every query the
 * Grafana dashboards use with data.
 */
@Timeout(value = 15, unit = java.util.concurrent.TimeUnit.MINUTES)
class LoadTestSmokeIT {
  static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  static final Path OUT = Path.of("target", "loadtest-smoke").toAbsolutePath();
  static LocalPlatform platform;
  static LoadTest.Outcome outcome;

  @BeforeAll
  static void runTheLoadTest() throws Exception {
    // Debian's prometheus package (promtool and prometheus), installed when missing.
    run(List.of("bash", ROOT.resolve("infra/prometheus/ensure-promtool.sh").toString()));
    platform = LocalPlatform.forTests(ROOT);
    platform.start(
        new LocalPlatform.Options(Infrastructure.Ports.FREE, true, true).withStartupCache());
    Settings settings =
        Settings.parse(
            List.of("--players", "2000", "--http-players", "200", "--out", OUT.toString()),
            Clock.systemUTC());
    outcome =
        LoadTest.runAgainst(
            settings,
            platform.environment().get(InfraSettings.KAFKA_BOOTSTRAP_SERVERS),
            platform.clientSecret("loadtest"),
            Clock.systemUTC(),
            System.out);
  }

  @AfterAll
  static void stop() {
    if (platform != null) {
      platform.copyLogs(OUT.resolve("logs"));
      platform.stop();
    }
  }

  @Test
  void every_bulk_player_is_counted_at_every_stage_and_none_is_lost() {
    var bulk = outcome.bulk();
    assertThat(bulk.queued()).isEqualTo(2000);
    assertThat(bulk.matched()).isGreaterThanOrEqualTo(2000);
    assertThat(bulk.sent()).isEqualTo(2000);
    assertThat(bulk.received()).isGreaterThanOrEqualTo(2000);
    assertThat(bulk.seated()).isEqualTo(2000);
    assertThat(bulk.rooms()).isEqualTo(200);
    assertThat(bulk.lost()).isZero();
    assertThat(bulk.duplicated()).isZero();
    assertThat(bulk.enqueueToRoomSeconds()).hasSize(2000).allMatch(s -> s >= 0);
  }

  @Test
  void the_warm_up_round_before_it_is_counted_apart_and_loses_nobody_either() {
    var warmUp = outcome.warmUp();
    assertThat(warmUp.players()).isEqualTo(2000);
    assertThat(warmUp.seated()).isEqualTo(2000);
    assertThat(warmUp.lost()).isZero();
    assertThat(warmUp.duplicated()).isZero();
    assertThat(outcome.markdown()).contains("a warm-up round of 2,000 players");
  }

  @Test
  void the_full_path_passes_and_reports_latency_percentiles_per_request() {
    HttpResult http = outcome.http();
    assertThat(http.passed()).as(outcome.markdown()).isTrue();
    assertThat(http.requests())
        .extracting(HttpResult.RequestStats::name)
        .contains("sign up", "log in", "connect", "queue", "match.room-assigned", "status");
    HttpResult.RequestStats signUp =
        http.requests().stream().filter(r -> r.name().equals("sign up")).findFirst().orElseThrow();
    assertThat(http.finished()).as("measured and warm-up players").isEqualTo(250);
    assertThat(signUp.ok()).isEqualTo(200);
    assertThat(http.requests()).allMatch(r -> r.failed() == 0, "nothing failed");
    assertThat(signUp.p50()).isPositive().isLessThanOrEqualTo(signUp.p99());
  }

  @Test
  void the_report_has_the_markdown_and_every_chart() throws Exception {
    assertThat(Files.readString(OUT.resolve("report.md")))
        .contains("| **players lost** | **0** |")
        .contains("| sign up | 200 | ");
    for (String chart :
        List.of(Charts.THROUGHPUT, Charts.LATENCY, Charts.SPREAD, Charts.QUEUE_DEPTH)) {
      assertThat(Files.size(OUT.resolve(chart))).as(chart).isPositive();
    }
  }

  @Test
  void prometheus_has_data_for_every_query_of_every_dashboard() throws Exception {
    assertThat(platform.prometheusRunning()).as("prometheus on the PATH was started").isTrue();
    Set<String> queries = dashboardQueries();
    assertThat(queries).hasSizeGreaterThan(20);
    HttpClient http = HttpClient.newHttpClient();
    Set<String> answered = ConcurrentHashMap.newKeySet();
    // rate() over [1m] needs two scrapes (5 s apart) after a series appears.
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofSeconds(2))
        .untilAsserted(
            () -> {
              for (String q : queries) {
                if (!answered.contains(q) && hasData(http, q)) {
                  answered.add(q);
                }
              }
              Set<String> missing = new TreeSet<>(queries);
              missing.removeAll(answered);
              assertThat(missing).as("queries without data").isEmpty();
            });
  }

  private static boolean hasData(HttpClient http, String query) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + LocalPlatform.PROMETHEUS_PORT
                            + "/api/v1/query?query="
                            + URLEncoder.encode(query, StandardCharsets.UTF_8)))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    JsonNode body = new ObjectMapper().readTree(r.body());
    assertThat(body.path("status").asText()).as("%s: %s", query, r.body()).isEqualTo("success");
    return body.path("data").path("result").size() > 0;
  }

  /** Every {@code expr} in infra/grafana/dashboards. */
  static Set<String> dashboardQueries() throws Exception {
    return new TreeSet<>(Dashboards.queries(ROOT.resolve("infra/grafana/dashboards")));
  }

  private static String run(List<String> command) throws Exception {
    Process p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("%s: %s", command, output).isZero();
    return output;
  }
}
