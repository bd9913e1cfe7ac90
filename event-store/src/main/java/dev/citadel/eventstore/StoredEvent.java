package dev.citadel.eventstore;

import java.time.Instant;

/** An event as the journal holds it. */
public record StoredEvent(
    String aggregateType,
    String aggregateId,
    long seq,
    String type,
    byte[] payload,
    Instant recordedAt,
    long globalPosition) {}
