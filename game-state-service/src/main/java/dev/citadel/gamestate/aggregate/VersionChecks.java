package dev.citadel.gamestate.aggregate;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;
import reactor.core.publisher.Mono;

/**
 * The stored version of streams, looked up for many callers at once ({@link GroupedLookups}): a
 * read asks after it arrived, and the lookup starts after that, so what it answers includes every
 * write committed before the read began (the same guarantee as reading the stream itself, for a
 * fraction of the queries). Past {@code maxWaiting} callers waiting, or {@code maxWait} waited, a
 * caller is refused ({@link Overloaded}).
 */
final class VersionChecks {
  private final GroupedLookups<String, Long> lookups;

  /**
   * @param lookup the stored version of each stream that exists (absent: never written)
   */
  VersionChecks(
      Function<Collection<String>, Mono<Map<String, Long>>> lookup,
      int maxBatch,
      int maxInFlight,
      int maxWaiting,
      Duration maxWait,
      LongSupplier nanoTime) {
    this.lookups =
        new GroupedLookups<>(
            "version-checks",
            "a version check",
            lookup,
            0L,
            maxBatch,
            maxInFlight,
            maxWaiting,
            maxWait,
            nanoTime);
  }

  /** Without a bound on a caller's wait (tests of the grouping alone). */
  VersionChecks(
      Function<Collection<String>, Mono<Map<String, Long>>> lookup,
      int maxBatch,
      int maxInFlight,
      int maxWaiting) {
    this(lookup, maxBatch, maxInFlight, maxWaiting, Duration.ofDays(365), System::nanoTime);
  }

  /** The stream's stored version (0 if it was never written), as of a lookup started after now. */
  Mono<Long> version(String id) {
    return lookups.get(id);
  }
}
