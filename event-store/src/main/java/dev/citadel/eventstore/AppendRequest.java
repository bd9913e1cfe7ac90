package dev.citadel.eventstore;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Events to append to one stream, valid only if the stream is still at {@code expectedVersion} (0
 * for a stream that must not exist yet). The events get sequence numbers {@code expectedVersion + 1
 * ...}.
 */
public record AppendRequest(
    String aggregateType,
    String aggregateId,
    long expectedVersion,
    List<EventData> events,
    Instant recordedAt) {
  public AppendRequest {
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

  public long newVersion() {
    return expectedVersion + events.size();
  }
}
