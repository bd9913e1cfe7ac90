package dev.citadel.loadtest.http;

import dev.citadel.loadtest.report.HttpResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Gatling's HTML report. The statistics table of {@code index.html} gives the requests in order and
 * the page of each; its latencies mix OK and KO, so each request's figures are read from its own
 * page ({@code <id>.html}), whose table splits them: counts of OK and KO, latencies of OK. There is
 * no such split for all requests together, so the total is left out. Gatling 3.14 writes its
 * figures only in HTML (the {@code simulation.log} is binary). Rows are found by their labels, so a
 * reordering does not silently shift the figures.
 */
final class GatlingReport {
  private static final Pattern ROW =
      Pattern.compile("<tr id=\"([^\"]+)\" data-parent=\"ROOT\">(.*?)</tr>", Pattern.DOTALL);
  private static final Pattern NAME = Pattern.compile("class=\"ellipsed-name\">([^<]*)<");
  private static final Pattern PAGE_ROW =
      Pattern.compile(
          "<td class=\"title\">([^<]+)(?:</abbr>)?</td>\\s*<td class=\"total\">([^<]*)</td>"
              + "\\s*<td class=\"ok\">([^<]*)</td>\\s*<td class=\"ko\">([^<]*)</td>");

  private GatlingReport() {}

  /**
   * Each request in report order.
   *
   * @param page a request's page by its id (the report's {@code <id>.html}); null when missing
   */
  static List<HttpResult.RequestStats> read(String indexHtml, Function<String, String> page) {
    List<HttpResult.RequestStats> requests = new ArrayList<>();
    Matcher row = ROW.matcher(indexHtml);
    while (row.find()) {
      Matcher name = NAME.matcher(row.group(2));
      if (!name.find()) {
        continue;
      }
      String html = page.apply(row.group(1));
      if (html == null) {
        throw new IllegalStateException("the Gatling report has no page " + row.group(1) + ".html");
      }
      requests.add(accepted(name.group(1), html));
    }
    if (requests.isEmpty()) {
      throw new IllegalStateException("no statistics table in the Gatling report");
    }
    return requests;
  }

  /** A page's counts of OK and KO and its latencies of OK requests. */
  static HttpResult.RequestStats accepted(String name, String html) {
    Map<String, String[]> rows = new HashMap<>();
    Matcher m = PAGE_ROW.matcher(html);
    while (m.find()) {
      rows.putIfAbsent(m.group(1).strip(), new String[] {m.group(3), m.group(4)});
    }
    return new HttpResult.RequestStats(
        name,
        (long) number(rows, "Total count", 0),
        (long) number(rows, "Total count", 1),
        0,
        number(rows, "50th percentile", 0),
        number(rows, "75th percentile", 0),
        number(rows, "95th percentile", 0),
        number(rows, "99th percentile", 0),
        number(rows, "Max", 0));
  }

  /** Column 0 is OK, 1 is KO; "-" (no such request) reads as 0. */
  private static double number(Map<String, String[]> rows, String label, int column) {
    String[] row = rows.get(label);
    if (row == null) {
      throw new IllegalStateException("the Gatling report's page has no row '" + label + "'");
    }
    String v = row[column].strip().replace(",", "");
    return v.equals("-") || v.isEmpty() ? 0 : Double.parseDouble(v);
  }
}
