package dev.citadel.gamestate.aggregate;

import java.time.Duration;

/**
 * @param idleTimeout a resident aggregate unused this long is passivated
 * @param maxResident above this many residents, the least recently used idle ones go first
 * @param maxConcurrentRecoveries loads from the store running at once
 * @param sweepInterval how often passivation runs
 * @param maxPendingPerAggregate requests queued or running on one aggregate; past it a request is
 *     refused at once ({@link Overloaded}, 503)
 * @param maxWaitingRecoveries loads waiting for one of the {@code maxConcurrentRecoveries} slots;
 *     past it likewise
 * @param maxWaitingReads reads and transaction prepares waiting for their version check ({@link
 *     VersionChecks}); past it likewise
 */
public record HostOptions(
    Duration idleTimeout,
    int maxResident,
    int maxConcurrentRecoveries,
    Duration sweepInterval,
    int maxPendingPerAggregate,
    int maxWaitingRecoveries,
    int maxWaitingReads) {
  public static HostOptions defaults() {
    return new HostOptions(
        Duration.ofMinutes(10), 100_000, 16, Duration.ofSeconds(10), 64, 1_000, 10_000);
  }

  public HostOptions {
    if (maxPendingPerAggregate < 1
        || maxWaitingRecoveries < 1
        || maxConcurrentRecoveries < 1
        || maxWaitingReads < 1) {
      throw new IllegalArgumentException("the bounds on waiting work must be positive");
    }
  }
}
