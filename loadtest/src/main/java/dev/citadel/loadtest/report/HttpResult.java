package dev.citadel.loadtest.report;

import java.util.List;

/**
 * The full path through the gateway, as Gatling measured it.
 *
 * @param players virtual players measured
 * @param warmUpPlayers players who went the path first, reported apart (request names starting
 *     {@code warm-up: })
 * @param finished players (warm-up included) who went the whole path (signed up, queued, seated,
 *     status read)
 * @param passed every player finished and no request failed other than by being refused
 * @param requests per request name, in Gatling's order
 * @param gatlingReport the folder of Gatling's HTML report
 */
public record HttpResult(
    int players,
    int warmUpPlayers,
    long finished,
    boolean passed,
    List<RequestStats> requests,
    String gatlingReport) {

  /** How the warm-up players' request names start. */
  public static final String WARM_UP = "warm-up: ";

  /**
   * One request's figures; latencies in milliseconds are those of accepted requests (Gatling's OK).
   * No mean: Gatling 3.14's request page shows the rate (count/s) in its "Mean" row.
   *
   * @param ok accepted and as expected
   * @param ko not: {@code refused} of them were refused with 503/429 and Retry-After (and sent
   *     again), the rest failed
   */
  public record RequestStats(
      String name,
      long ok,
      long ko,
      long refused,
      double p50,
      double p75,
      double p95,
      double p99,
      double max) {

    /** KOs that were not refusals. */
    public long failed() {
      return ko - refused;
    }

    public RequestStats withRefused(long refused) {
      return new RequestStats(name, ok, ko, refused, p50, p75, p95, p99, max);
    }
  }
}
