package dev.citadel.messaging;

import java.util.Map;

/** A received message and where it sits in its partition. */
public record IncomingMessage(
    String topic,
    int partition,
    long offset,
    String key,
    byte[] value,
    Map<String, String> headers) {}
