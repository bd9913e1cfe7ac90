package dev.citadel.messaging;

import java.util.Map;

/**
 * A received message and where it sits in its partition. Key and value are never null: a record
 * without one is dead-lettered by the consumer, never handed to a handler; a header without a value
 * reads as the empty string.
 */
public record IncomingMessage(
    String topic,
    int partition,
    long offset,
    String key,
    byte[] value,
    Map<String, String> headers) {}
