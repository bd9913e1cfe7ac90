package dev.citadel.loadtest.observe;

import dev.citadel.infra.observability.PrometheusText;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Scrapes the services' {@code /actuator/prometheus} every {@code period}: the queue depth over
 * time, and the services' own counts of each stage (formed, sent, placed, assigned), so the report
 * can set them against what the observer saw on Kafka.
 */
public final class MetricsSampler implements AutoCloseable {
  /**
   * The services' counters at one moment; totals over both game-state instances. The CPU seconds
   * are each service's {@code process_cpu_time} (game-state's summed over its instances), NaN when
   * a service did not report it.
   */
  public record Point(
      long atMs,
      double queueDepth,
      double formed,
      double sent,
      double sendFailed,
      double placed,
      double rejected,
      double assigned,
      double resent,
      double expired,
      double matchServiceCpuSeconds,
      double gameStateCpuSeconds) {
    Point minus(Point base) {
      return new Point(
          atMs,
          queueDepth,
          formed - base.formed,
          sent - base.sent,
          sendFailed - base.sendFailed,
          placed - base.placed,
          rejected - base.rejected,
          assigned - base.assigned,
          resent - base.resent,
          expired - base.expired,
          matchServiceCpuSeconds - base.matchServiceCpuSeconds,
          gameStateCpuSeconds - base.gameStateCpuSeconds);
    }
  }

  private final String matchService;
  private final List<String> gameStates;
  private final String queue;
  private final List<Point> points = new CopyOnWriteArrayList<>();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "loadtest-sampler");
            t.setDaemon(true);
            return t;
          });
  private final Point base;
  private final Clock clock;

  public MetricsSampler(
      String matchService, List<String> gameStates, String queue, Duration period, Clock clock)
      throws Exception {
    this.clock = clock;
    this.matchService = matchService;
    this.gameStates = gameStates;
    this.queue = queue;
    this.base = sample();
    timer.scheduleAtFixedRate(this::record, 0, period.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void record() {
    try {
      points.add(sample().minus(base));
    } catch (Exception e) {
      // a missed scrape is a gap in the chart, not a failure of the run
    }
  }

  /** Counters since the sampler started (the queue depth as is). */
  public Point latest() throws Exception {
    return sample().minus(base);
  }

  /** Every point so far. */
  public List<Point> points() {
    return new ArrayList<>(points);
  }

  private Point sample() throws Exception {
    List<PrometheusText.Sample> match = scrape(matchService);
    List<PrometheusText.Sample> game = new ArrayList<>();
    for (String g : gameStates) {
      game.addAll(scrape(g));
    }
    return new Point(
        clock.millis(),
        PrometheusText.sum(match, "citadel_match_queue_depth", Map.of("queue", queue)),
        PrometheusText.sum(match, "citadel_matches_formed_total", Map.of()),
        PrometheusText.sum(match, "citadel_matches_sent_total", Map.of("outcome", "sent")),
        PrometheusText.sum(match, "citadel_matches_sent_total", Map.of("outcome", "failed")),
        PrometheusText.sum(game, "citadel_match_placements_total", Map.of("outcome", "assigned")),
        PrometheusText.sum(game, "citadel_match_placements_total", Map.of("outcome", "rejected")),
        PrometheusText.sum(match, "citadel_matches_assigned_total", Map.of()),
        PrometheusText.sum(match, "citadel_matches_resent_total", Map.of()),
        PrometheusText.sum(match, "citadel_matches_expired_total", Map.of()),
        cpuSeconds(match, 1),
        cpuSeconds(game, gameStates.size()));
  }

  /**
   * The {@code process_cpu_time} of {@code processes} services, summed; NaN unless each reported it
   * (a missing metric reads as "NaN" in the report, not as no CPU).
   */
  static double cpuSeconds(List<PrometheusText.Sample> samples, int processes) {
    long reported =
        samples.stream().filter(s -> s.name().equals("process_cpu_time_ns_total")).count();
    return reported == processes
        ? PrometheusText.sum(samples, "process_cpu_time_ns_total", Map.of()) / 1e9
        : Double.NaN;
  }

  private static List<PrometheusText.Sample> scrape(String baseUrl) throws Exception {
    return PrometheusText.scrape(URI.create(baseUrl), Duration.ofSeconds(5));
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
