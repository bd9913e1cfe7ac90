package dev.citadel.infra.observability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The Grafana dashboards in {@code infra/grafana/dashboards}, as the checks of them read them. */
public final class Dashboards {
  private static final Pattern EXPR = Pattern.compile("\"expr\":\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

  private Dashboards() {}

  /** Every PromQL {@code expr} of every dashboard JSON in {@code dir}, in file order. */
  public static List<String> queries(Path dir) throws IOException {
    List<String> exprs = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
        Matcher m = EXPR.matcher(Files.readString(f));
        while (m.find()) {
          exprs.add(m.group(1).replace("\\\"", "\"").replace("\\\\", "\\"));
        }
      }
    }
    return exprs;
  }
}
