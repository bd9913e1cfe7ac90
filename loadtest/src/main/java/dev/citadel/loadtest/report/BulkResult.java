package dev.citadel.loadtest.report;

import dev.citadel.loadtest.observe.MatchObserver;
import dev.citadel.loadtest.observe.MetricsSampler;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Everything the report says about one bulk run, computed from what the load generator sent, what
 * the observer saw on Kafka and what the services counted.
 *
 * @param players players the run meant to queue
 * @param queued accepted by match-service
 * @param matched players in matches the matcher formed (its counter x players per match)
 * @param sent distinct players in a {@code match.found} on Kafka
 * @param received players in matches game-state answered with a room (its counter)
 * @param rooms distinct rooms given to this run's matches
 * @param seated distinct players with a room
 * @param lost queued players without a room at the end
 * @param duplicated players seated in two different matches
 * @param startMs first enqueue request
 * @param enqueuedMs last enqueue answer
 * @param lastRoomMs last room assignment seen
 */
public record BulkResult(
    int players,
    long queued,
    long refused,
    long matched,
    long sent,
    long received,
    long rooms,
    long seated,
    long lost,
    long duplicated,
    long resent,
    long expired,
    long rejected,
    long startMs,
    long enqueuedMs,
    long lastRoomMs,
    List<Double> enqueueToRoomSeconds,
    List<Integer> eloSpreads,
    List<long[]> enqueueEvents,
    List<long[]> seatEvents,
    List<MetricsSampler.Point> samples,
    double matchServiceCpuSeconds,
    double gameStateCpuSeconds) {

  /** CPU milliseconds a 1,000 players: match-service, then game-state (its instances summed). */
  public double[] cpuMsPerThousand() {
    double k = players / 1000.0;
    return new double[] {matchServiceCpuSeconds * 1000 / k, gameStateCpuSeconds * 1000 / k};
  }

  /** Wall time from the first enqueue to the last room. */
  public double wallSeconds() {
    return (Math.max(lastRoomMs, enqueuedMs) - startMs) / 1000.0;
  }

  public double enqueueSeconds() {
    return (enqueuedMs - startMs) / 1000.0;
  }

  /** Matches with rooms per second of wall time. */
  public double matchesPerSecond() {
    return seatedMatches() / wallSeconds();
  }

  public long seatedMatches() {
    return eloSpreads.size();
  }

  /** Computes the figures; pure. */
  public static BulkResult of(
      int players,
      int playersPerMatch,
      long queued,
      long refused,
      long startMs,
      long enqueuedMs,
      List<long[]> enqueueEvents,
      List<MatchObserver.Match> matches,
      long playersSent,
      long playersSeated,
      long duplicated,
      MetricsSampler.Point counters,
      List<MetricsSampler.Point> samples) {
    List<Double> latencies = new ArrayList<>();
    List<Integer> spreads = new ArrayList<>();
    List<long[]> seatEvents = new ArrayList<>();
    Set<String> rooms = new HashSet<>();
    long lastRoom = 0;
    for (MatchObserver.Match m : matches) {
      if (m.seat() == null) {
        continue;
      }
      rooms.add(m.seat().channel() + "/" + m.seat().room());
      lastRoom = Math.max(lastRoom, m.seat().atMs());
      seatEvents.add(new long[] {m.seat().atMs(), m.seat().players().size()});
      int min = Integer.MAX_VALUE;
      int max = Integer.MIN_VALUE;
      for (MatchedPlayer p : m.players()) {
        min = Math.min(min, p.getElo());
        max = Math.max(max, p.getElo());
        latencies.add((m.seat().atMs() - p.getEnqueuedAtEpochMs()) / 1000.0);
      }
      spreads.add(max - min);
    }
    return new BulkResult(
        players,
        queued,
        refused,
        Math.round(counters.formed()) * playersPerMatch,
        playersSent,
        Math.round(counters.placed()) * playersPerMatch,
        rooms.size(),
        playersSeated,
        queued - playersSeated,
        duplicated,
        Math.round(counters.resent()),
        Math.round(counters.expired()),
        Math.round(counters.rejected()),
        startMs,
        enqueuedMs,
        lastRoom,
        latencies,
        spreads,
        enqueueEvents,
        seatEvents,
        samples,
        counters.matchServiceCpuSeconds(),
        counters.gameStateCpuSeconds());
  }
}
