package dev.citadel.gamestate.testing;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.Appended;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.KeyRecord;
import dev.citadel.eventstore.LoadedStream;
import dev.citadel.eventstore.Snapshot;
import dev.citadel.eventstore.StoredEvent;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A real event store passed through unchanged; fault tests override the one call they break (a
 * reply lost after COMMIT, a connection refused) and keep the real store for everything else.
 */
public class ForwardingEventStore implements EventStore {
  protected final EventStore inner;

  public ForwardingEventStore(EventStore inner) {
    this.inner = inner;
  }

  @Override
  public Mono<Appended> append(AppendRequest request) {
    return inner.append(request);
  }

  @Override
  public Mono<List<Appended>> appendAtomically(List<AppendRequest> requests) {
    return inner.appendAtomically(requests);
  }

  @Override
  public Mono<LoadedStream> load(String aggregateId) {
    return inner.load(aggregateId);
  }

  @Override
  public Flux<StoredEvent> readStream(String aggregateId) {
    return inner.readStream(aggregateId);
  }

  @Override
  public Flux<StoredEvent> readStream(String aggregateId, long afterSeq) {
    return inner.readStream(aggregateId, afterSeq);
  }

  @Override
  public Flux<StoredEvent> readStreams(java.util.Map<String, Long> afterSeq) {
    return inner.readStreams(afterSeq);
  }

  @Override
  public Flux<StoredEvent> readSettled(String aggregateId, long afterSeq) {
    return inner.readSettled(aggregateId, afterSeq);
  }

  @Override
  public Flux<StoredEvent> readStreamHeads(Collection<String> ids, long maxSeq) {
    return inner.readStreamHeads(ids, maxSeq);
  }

  @Override
  public Mono<Map<String, Long>> versions(Collection<String> ids) {
    return inner.versions(ids);
  }

  @Override
  public Mono<Void> saveSnapshot(Snapshot snapshot) {
    return inner.saveSnapshot(snapshot);
  }

  @Override
  public Mono<KeyRecord> findKey(String aggregateId, String key) {
    return inner.findKey(aggregateId, key);
  }

  @Override
  public Mono<Long> forgetKeys(Instant before) {
    return inner.forgetKeys(before);
  }
}
