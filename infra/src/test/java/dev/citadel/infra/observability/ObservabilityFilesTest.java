package dev.citadel.infra.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Prometheus config and the Grafana dashboards in infra/: promtool accepts the config and every
 * dashboard query, the dashboards type-check against Grafana's schema, and every Citadel metric a
 * dashboard asks for is one a service registers.
 */
class ObservabilityFilesTest {
  static final Path ROOT = root();
  static final Path INFRA = ROOT.resolve("infra");
  static final Pattern CITADEL_METRIC = Pattern.compile("\\bcitadel_[a-z_]+");

  static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (!Files.exists(dir.resolve("infra/prometheus"))) {
      dir = dir.getParent();
    }
    return dir;
  }

  @Test
  void promtool_accepts_the_prometheus_config_and_every_dashboard_query() throws Exception {
    // The script prints the path last; an install before it (apt, debconf) may print more.
    String promtool =
        lastLine(run(List.of("bash", INFRA.resolve("prometheus/ensure-promtool.sh").toString())));
    run(
        List.of(
            promtool, "check", "config", INFRA.resolve("prometheus/prometheus.yml").toString()));

    // Each query as a recording rule: `promtool check rules` parses the PromQL.
    List<String> exprs = dashboardQueries();
    assertThat(exprs).isNotEmpty();
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard-queries\n    rules:\n");
    for (int i = 0; i < exprs.size(); i++) {
      rules
          .append("      - record: citadel:dashboard_query_")
          .append(i)
          .append("\n        expr: '")
          .append(exprs.get(i).replace("'", "''"))
          .append("'\n");
    }
    Path file = Files.createDirectories(Path.of("target")).resolve("dashboard-queries.rules.yml");
    Files.writeString(file, rules);
    run(List.of(promtool, "check", "rules", file.toString()));
  }

  /** Each alert fires on the fault it is for and stays quiet without it (promtool test rules). */
  @Test
  void the_alert_rules_fire_on_their_fault_and_only_then() throws Exception {
    String promtool =
        lastLine(run(List.of("bash", INFRA.resolve("prometheus/ensure-promtool.sh").toString())));
    run(List.of(promtool, "check", "rules", INFRA.resolve("prometheus/alerts.yml").toString()));
    String out =
        run(
            List.of(
                promtool, "test", "rules", INFRA.resolve("prometheus/alerts-test.yml").toString()));
    assertThat(out).contains("SUCCESS");
  }

  @Test
  void every_citadel_metric_an_alert_uses_is_registered_by_a_service() throws IOException {
    String sources = mainSources();
    Matcher m = CITADEL_METRIC.matcher(Files.readString(INFRA.resolve("prometheus/alerts.yml")));
    Set<String> missing = new TreeSet<>();
    while (m.find()) {
      String base = m.group().replaceAll("_(total|bucket|count|sum|max)$", "");
      if (!sources.contains("\"" + base + "\"")) {
        missing.add(m.group());
      }
    }
    assertThat(missing).as("metrics no service registers").isEmpty();
  }

  @Test
  void dashboards_type_check_against_grafanas_schema() throws Exception {
    String out =
        run(
            List.of(
                "bash",
                INFRA.resolve("grafana/check-dashboards.sh").toString(),
                Path.of("target", "grafana-schema").toAbsolutePath().toString()));
    assertThat(out).contains("dashboards match Grafana's schema");
  }

  @Test
  void every_citadel_metric_on_a_dashboard_is_registered_by_a_service() throws IOException {
    String sources = mainSources();
    Set<String> missing = new TreeSet<>();
    for (String expr : dashboardQueries()) {
      Matcher m = CITADEL_METRIC.matcher(expr);
      while (m.find()) {
        String base = m.group().replaceAll("_(total|bucket|count|sum|max)$", "");
        if (!sources.contains("\"" + base + "\"")) {
          missing.add(m.group());
        }
      }
    }
    assertThat(missing).as("metrics no service registers").isEmpty();
  }

  static List<String> dashboardQueries() throws IOException {
    return Dashboards.queries(INFRA.resolve("grafana/dashboards"));
  }

  static String mainSources() throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> files = Files.walk(ROOT)) {
      for (Path f :
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> p.toString().contains("/src/main/java/"))
              .toList()) {
        all.append(Files.readString(f));
      }
    }
    return all.toString();
  }

  static String lastLine(String output) {
    List<String> lines = output.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    if (lines.isEmpty()) {
      throw new AssertionError("no output");
    }
    return lines.get(lines.size() - 1);
  }

  static String run(List<String> command) throws Exception {
    Path out = Files.createTempFile("citadel-cmd", ".out");
    Process p =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    boolean done = p.waitFor(5, TimeUnit.MINUTES);
    String text = Files.readString(out, StandardCharsets.UTF_8);
    Files.delete(out);
    if (!done || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new AssertionError("failed: " + command + "\n" + text);
    }
    return text;
  }
}
