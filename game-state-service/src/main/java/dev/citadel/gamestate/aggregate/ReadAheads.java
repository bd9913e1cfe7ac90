package dev.citadel.gamestate.aggregate;

import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.StoredEvent;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import reactor.core.publisher.Mono;

/**
 * Commits' reads of the journal ({@link AggregateHost#readAhead}), grouped ({@link
 * GroupedLookups}): the read-aheads of commits that arrive together share one query, started after
 * each of them asked, so it finds every transaction stored before its commit was sent. At most
 * {@value #BATCH} commits a query, {@value #IN_FLIGHT} queries at once, {@code readAheadTimeout} to
 * start and to read.
 */
final class ReadAheads {
  /** Commits whose reads of the journal go in one query at most. */
  static final int BATCH = 64;

  static final int IN_FLIGHT = 2;

  private final EventStore store;
  private final Duration timeout;
  private final GroupedLookups<Map<String, Long>, List<StoredEvent>> lookups;

  ReadAheads(EventStore store, HostOptions options, LongSupplier nanoTime) {
    this.store = store;
    this.timeout = options.readAheadTimeout();
    this.lookups =
        new GroupedLookups<>(
            "read-aheads",
            "a commit's read of the journal",
            this::readNewer,
            List.of(),
            BATCH,
            IN_FLIGHT,
            options.maxWaitingReads(),
            timeout,
            nanoTime);
  }

  /**
   * The events of these streams after each one's version ({@code from}). Refused (too many waiting,
   * or waited too long): this commit's own query, as before reads were grouped (not one per player:
   * a commit cannot be refused, so the fallback must not cost more than the read it replaces). A
   * failed shared read fails its callers, which then read their own, player by player, as before.
   */
  Mono<ReadAhead> read(Map<String, Long> from) {
    return lookups
        .get(from)
        .onErrorResume(
            Overloaded.class, refused -> store.readStreams(from).collectList().timeout(timeout))
        .map(events -> ReadAhead.of(from, events));
  }

  /**
   * One query for several commits' reads: each stream after the earliest version asked, then each
   * commit's share (its streams, after its own versions).
   */
  private Mono<Map<Map<String, Long>, List<StoredEvent>>> readNewer(
      java.util.Collection<Map<String, Long>> asks) {
    Map<String, Long> union = new java.util.HashMap<>();
    asks.forEach(ask -> ask.forEach((id, seq) -> union.merge(id, seq, Math::min)));
    return store
        .readStreams(union)
        .collectList()
        .timeout(timeout)
        .map(
            events -> {
              Map<String, List<StoredEvent>> byStream = new java.util.HashMap<>();
              for (StoredEvent e : events) {
                byStream.computeIfAbsent(e.aggregateId(), k -> new java.util.ArrayList<>()).add(e);
              }
              Map<Map<String, Long>, List<StoredEvent>> shares = new java.util.HashMap<>();
              for (Map<String, Long> ask : asks) {
                List<StoredEvent> share = new java.util.ArrayList<>();
                ask.forEach(
                    (id, seq) -> {
                      for (StoredEvent e : byStream.getOrDefault(id, List.of())) {
                        if (e.seq() > seq) {
                          share.add(e);
                        }
                      }
                    });
                shares.put(ask, share);
              }
              return shares;
            });
  }
}
