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
 *     VersionChecks}); past it likewise (and commits waiting for a shared read of the journal)
 * @param readAheadTimeout the longest a commit waits for a shared read of the journal to start, and
 *     each such read takes: well under the coordinator's commit timeout (2 s by default), so a slow
 *     read leaves time for the commit's own
 */
public record HostOptions(
    Duration idleTimeout,
    int maxResident,
    int maxConcurrentRecoveries,
    Duration sweepInterval,
    int maxPendingPerAggregate,
    int maxWaitingRecoveries,
    int maxWaitingReads,
    Duration readAheadTimeout) {
  /** A shared read of the journal for commits: 500 ms to start, 500 ms to read. */
  public static final Duration READ_AHEAD_TIMEOUT = Duration.ofMillis(500);

  public static HostOptions defaults() {
    return new HostOptions(
        Duration.ofMinutes(10),
        100_000,
        16,
        Duration.ofSeconds(10),
        64,
        1_000,
        10_000,
        READ_AHEAD_TIMEOUT);
  }

  public HostOptions {
    if (maxPendingPerAggregate < 1
        || maxWaitingRecoveries < 1
        || maxConcurrentRecoveries < 1
        || maxWaitingReads < 1) {
      throw new IllegalArgumentException("the bounds on waiting work must be positive");
    }
    if (readAheadTimeout.isNegative() || readAheadTimeout.isZero()) {
      throw new IllegalArgumentException("the read-ahead timeout must be positive");
    }
  }

  /** The same, with another {@link #readAheadTimeout}. */
  public HostOptions withReadAheadTimeout(Duration timeout) {
    return new HostOptions(
        idleTimeout,
        maxResident,
        maxConcurrentRecoveries,
        sweepInterval,
        maxPendingPerAggregate,
        maxWaitingRecoveries,
        maxWaitingReads,
        timeout);
  }
}
