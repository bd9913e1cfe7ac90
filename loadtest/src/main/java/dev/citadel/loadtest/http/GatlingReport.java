package dev.citadel.loadtest.http;

import dev.citadel.loadtest.report.HttpResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The per-request statistics table of Gatling's HTML report ({@code index.html}); Gatling 3.14
 * writes its figures only there (the {@code simulation.log} is binary). Columns are found by their
 * header labels, so a reordering does not silently shift the figures.
 */
final class GatlingReport {
  private static final Pattern HEADER =
      Pattern.compile("<th id=\"(col-\\d+)\"[^>]*><span>(?:<abbr[^>]*>)?([^<]+)");
  private static final Pattern ROW =
      Pattern.compile(
          "<tr id=\"([^\"]+)\" data-parent=\"[^\"]*\">(.*?)</tr>|<tr id=\"(ROOT)\" >(.*?)</tr>",
          Pattern.DOTALL);
  private static final Pattern NAME = Pattern.compile("class=\"ellipsed-name\">([^<]*)<");
  private static final Pattern CELL =
      Pattern.compile("<td class=\"value [a-z]+ (col-\\d+)\">([^<]*)</td>");

  private GatlingReport() {}

  /** Each request in report order, then the total ("All Requests"). */
  static List<HttpResult.RequestStats> read(String indexHtml) {
    Map<String, String> columns = new HashMap<>();
    Matcher h = HEADER.matcher(indexHtml);
    while (h.find()) {
      columns.put(h.group(2).strip(), h.group(1));
    }
    List<HttpResult.RequestStats> requests = new ArrayList<>();
    HttpResult.RequestStats total = null;
    Matcher row = ROW.matcher(indexHtml);
    while (row.find()) {
      boolean root = row.group(3) != null;
      String body = root ? row.group(4) : row.group(2);
      Matcher name = NAME.matcher(body);
      if (!name.find()) {
        continue;
      }
      Map<String, String> cells = new HashMap<>();
      Matcher cell = CELL.matcher(body);
      while (cell.find()) {
        cells.put(cell.group(1), cell.group(2).strip());
      }
      HttpResult.RequestStats stats =
          new HttpResult.RequestStats(
              name.group(1),
              (long) number(cells, columns, "OK"),
              (long) number(cells, columns, "KO"),
              number(cells, columns, "Mean"),
              number(cells, columns, "50th pct"),
              number(cells, columns, "75th pct"),
              number(cells, columns, "95th pct"),
              number(cells, columns, "99th pct"),
              number(cells, columns, "Max"));
      if (root) {
        total = stats;
      } else {
        requests.add(stats);
      }
    }
    if (total == null) {
      throw new IllegalStateException("no statistics table in the Gatling report");
    }
    requests.add(total);
    return requests;
  }

  private static double number(
      Map<String, String> cells, Map<String, String> columns, String label) {
    String column = columns.get(label);
    if (column == null) {
      throw new IllegalStateException("the Gatling report has no column '" + label + "'");
    }
    String v = cells.getOrDefault(column, "-").replace(",", "");
    return v.equals("-") || v.isEmpty() ? 0 : Double.parseDouble(v);
  }
}
