package dev.citadel.eventstore;

import java.time.Instant;

/** The serialized state of a stream as of {@code version} (its last event's sequence number). */
public record Snapshot(
    String aggregateType,
    String aggregateId,
    long version,
    String type,
    byte[] payload,
    Instant recordedAt) {}
