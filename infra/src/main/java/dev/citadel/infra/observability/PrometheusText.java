package dev.citadel.infra.observability;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the Prometheus text format (0.0.4, as the services serve it without an Accept header),
 * enough to pick samples by name and labels; OpenMetrics exemplars after a value are not read.
 */
public final class PrometheusText {
  private static final java.net.http.HttpClient HTTP =
      java.net.http.HttpClient.newBuilder().connectTimeout(java.time.Duration.ofSeconds(2)).build();

  private PrometheusText() {}

  /**
   * A service's metrics, read from {@code /actuator/prometheus} of its management address in the
   * 0.0.4 text format (asked for: no OpenMetrics exemplars after values); anything but 200 fails.
   */
  public static List<Sample> scrape(java.net.URI management, java.time.Duration timeout)
      throws java.io.IOException, InterruptedException {
    String base = management.toString().replaceFirst("/$", "");
    java.net.http.HttpResponse<String> r =
        HTTP.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/actuator/prometheus"))
                .header("Accept", "text/plain;version=0.0.4")
                .timeout(timeout)
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(base + " /actuator/prometheus: " + r.statusCode());
    }
    return parse(r.body());
  }

  /** One sample line. */
  public record Sample(String name, Map<String, String> labels, double value) {}

  public static List<Sample> parse(String text) {
    List<Sample> samples = new ArrayList<>();
    for (String line : text.split("\n")) {
      line = line.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int brace = line.indexOf('{');
      int space;
      String name;
      Map<String, String> labels = new TreeMap<>();
      if (brace >= 0 && brace < line.indexOf(' ')) {
        name = line.substring(0, brace);
        int close = line.lastIndexOf('}');
        parseLabels(line.substring(brace + 1, close), labels);
        space = close + 1;
      } else {
        space = line.indexOf(' ');
        name = line.substring(0, space);
      }
      String[] rest = line.substring(space).strip().split("\\s+");
      samples.add(new Sample(name, labels, parseValue(rest[0])));
    }
    return samples;
  }

  private static double parseValue(String v) {
    return switch (v) {
      case "+Inf" -> Double.POSITIVE_INFINITY;
      case "-Inf" -> Double.NEGATIVE_INFINITY;
      case "NaN" -> Double.NaN;
      default -> Double.parseDouble(v);
    };
  }

  private static void parseLabels(String body, Map<String, String> labels) {
    int i = 0;
    while (i < body.length()) {
      int eq = body.indexOf('=', i);
      if (eq < 0) {
        return;
      }
      String key = body.substring(i, eq).strip();
      StringBuilder value = new StringBuilder();
      int j = eq + 2; // past ="
      while (j < body.length() && body.charAt(j) != '"') {
        char c = body.charAt(j);
        if (c == '\\' && j + 1 < body.length()) {
          char n = body.charAt(++j);
          value.append(n == 'n' ? '\n' : n);
        } else {
          value.append(c);
        }
        j++;
      }
      labels.put(key, value.toString());
      i = j + 1;
      while (i < body.length() && (body.charAt(i) == ',' || body.charAt(i) == ' ')) {
        i++;
      }
    }
  }

  /** Sum of the samples named {@code name} whose labels include every one of {@code match}. */
  public static double sum(List<Sample> samples, String name, Map<String, String> match) {
    double total = 0;
    for (Sample s : samples) {
      if (s.name().equals(name) && s.labels().entrySet().containsAll(match.entrySet())) {
        total += s.value();
      }
    }
    return total;
  }
}
