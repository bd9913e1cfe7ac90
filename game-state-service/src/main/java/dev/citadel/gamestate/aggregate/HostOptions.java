package dev.citadel.gamestate.aggregate;

import java.time.Duration;

/**
 * @param idleTimeout a resident aggregate unused this long is passivated
 * @param maxResident above this many residents, the least recently used idle ones go first
 * @param maxConcurrentRecoveries loads from the store running at once
 * @param sweepInterval how often passivation runs
 */
public record HostOptions(
    Duration idleTimeout, int maxResident, int maxConcurrentRecoveries, Duration sweepInterval) {
  public static HostOptions defaults() {
    return new HostOptions(Duration.ofMinutes(10), 100_000, 16, Duration.ofSeconds(10));
  }
}
