package dev.citadel.eventstore;

import java.time.Instant;

/**
 * An idempotency key the journal holds: the append that carried it wrote sequence numbers {@code
 * firstSeq..lastSeq} of the stream.
 */
public record KeyRecord(
    String aggregateId,
    String key,
    String fingerprint,
    long firstSeq,
    long lastSeq,
    Instant recordedAt) {}
