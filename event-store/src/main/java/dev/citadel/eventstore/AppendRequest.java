package dev.citadel.eventstore;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Events to append to one stream, valid only if the stream is still at {@code expectedVersion} (0
 * for a stream that must not exist yet) and, when a key is given, does not hold that key yet. The
 * events get sequence numbers {@code expectedVersion + 1 ...}.
 */
public record AppendRequest(
    String aggregateType,
    String aggregateId,
    long expectedVersion,
    List<EventData> events,
    Instant recordedAt,
    Optional<IdempotencyKey> key) {

  public AppendRequest(
      String aggregateType,
      String aggregateId,
      long expectedVersion,
      List<EventData> events,
      Instant recordedAt) {
    this(aggregateType, aggregateId, expectedVersion, events, recordedAt, Optional.empty());
  }

  public AppendRequest {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(aggregateType, "aggregateType");
    Objects.requireNonNull(aggregateId, "aggregateId");
    Objects.requireNonNull(recordedAt, "recordedAt");
    events = List.copyOf(events);
    if (events.isEmpty()) {
      throw new IllegalArgumentException("nothing to append to " + aggregateId);
    }
    if (expectedVersion < 0) {
      throw new IllegalArgumentException("negative expected version for " + aggregateId);
    }
  }

  public AppendRequest withKey(IdempotencyKey k) {
    return new AppendRequest(
        aggregateType, aggregateId, expectedVersion, events, recordedAt, Optional.of(k));
  }

  public long newVersion() {
    return expectedVersion + events.size();
  }
}
