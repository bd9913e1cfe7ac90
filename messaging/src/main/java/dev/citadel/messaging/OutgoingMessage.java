package dev.citadel.messaging;

import java.util.Map;
import java.util.Objects;

/**
 * A message to publish. Messages with the same key go to the same partition, in order.
 *
 * @param headers small string metadata, e.g. the protobuf type of {@code value}
 */
public record OutgoingMessage(String topic, String key, byte[] value, Map<String, String> headers) {
  public OutgoingMessage {
    Objects.requireNonNull(topic, "topic");
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    headers = Map.copyOf(headers);
  }

  public OutgoingMessage(String topic, String key, byte[] value) {
    this(topic, key, value, Map.of());
  }
}
