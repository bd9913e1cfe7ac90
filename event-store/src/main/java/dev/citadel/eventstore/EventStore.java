package dev.citadel.eventstore;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** An append-only journal of event streams keyed by (aggregate id, sequence number). */
public interface EventStore {

  /**
   * Appends to one stream if it is still at the expected version; fails with {@link
   * ConcurrencyConflict} otherwise. Concurrent appends to different streams share a transaction
   * (group commit) but succeed or conflict one by one.
   */
  Mono<Appended> append(AppendRequest request);

  /**
   * Appends to several streams in ONE transaction: all or nothing. Fails with {@link
   * ConcurrencyConflict} (naming the first stale stream) if any stream is not at its expected
   * version. Appends to streams that exist share a group-commit statement with other appends (each
   * decided on its own, this one whole).
   */
  Mono<List<Appended>> appendAtomically(List<AppendRequest> requests);

  /** The newest snapshot and only the events after it. */
  Mono<LoadedStream> load(String aggregateId);

  /** Every event still in the journal for the stream, in order. */
  Flux<StoredEvent> readStream(String aggregateId);

  /** The stream's events after {@code afterSeq}, in order (to bring a cached copy up to date). */
  Flux<StoredEvent> readStream(String aggregateId, long afterSeq);

  /**
   * Many streams' events, each after its own sequence number ({@code afterSeq} by stream id), in
   * one query: ordered by stream and sequence.
   */
  Flux<StoredEvent> readStreams(Map<String, Long> afterSeq);

  /**
   * The same, after waiting for every append still running (an append whose reply was lost may
   * still be waiting for a row, or committing right now): events not found are not there, not
   * merely not visible yet. For looking up whether an append with an ambiguous outcome landed.
   */
  Flux<StoredEvent> readSettled(String aggregateId, long afterSeq);

  /**
   * The first events (up to {@code seq <= maxSeq}) of many streams in one query, ordered by stream
   * and sequence: for checking in bulk which streams exist and how they began.
   */
  Flux<StoredEvent> readStreamHeads(Collection<String> aggregateIds, long maxSeq);

  /**
   * The current version of each of these streams that exists, in one query; a stream never written
   * is absent. For checking in bulk which aggregates exist before sending them commands.
   */
  Mono<Map<String, Long>> versions(Collection<String> aggregateIds);

  /**
   * Stores a snapshot, then applies the type's retention policy to the stream. A snapshot for a
   * version the journal does not hold (beyond the stream's stored version) is not written.
   */
  Mono<Void> saveSnapshot(Snapshot snapshot);

  /**
   * The idempotency key on a stream, if an append carried it; empty otherwise. An append to the
   * stream that is still committing is waited for, so an empty answer is final.
   */
  Mono<KeyRecord> findKey(String aggregateId, String key);

  /**
   * The same after a write failed in doubt: first waits for every append still running when it was
   * asked (one whose reply was lost may still be waiting for another stream's row, and commit
   * later), so an empty answer means that write was not stored. Slower than {@link #findKey}: for
   * lookups after a failure, not before every keyed write.
   */
  default Mono<KeyRecord> findKeyAfterFailure(String aggregateId, String key) {
    return findKey(aggregateId, key);
  }

  /** Forgets idempotency keys recorded before {@code before}; how many went. */
  Mono<Long> forgetKeys(Instant before);
}
