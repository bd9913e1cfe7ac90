package dev.citadel.loadtest.report;

import java.util.List;

/**
 * The full path through the gateway, as Gatling measured it.
 *
 * @param players virtual players
 * @param requests per request name, in Gatling's order
 * @param gatlingReport the folder of Gatling's HTML report
 */
public record HttpResult(
    int players, boolean passed, List<RequestStats> requests, String gatlingReport) {

  /** One request's figures in milliseconds. */
  public record RequestStats(
      String name,
      long ok,
      long ko,
      double mean,
      double p50,
      double p75,
      double p95,
      double p99,
      double max) {}
}
