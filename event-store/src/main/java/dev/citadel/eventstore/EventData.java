package dev.citadel.eventstore;

import java.util.Objects;

/**
 * One event to append: its type name (the protobuf full name) and its serialized bytes.
 *
 * @param type e.g. {@code citadel.player.v1.GoldEarned}
 */
public record EventData(String type, byte[] payload) {
  /**
   * The largest payload an event may have: well below Kafka's default 1 MiB request limit, so that
   * the outbox can always publish what the journal accepted. A bigger event is a bug in the caller
   * (state belongs in snapshots, not in one event) and is refused before anything is written.
   */
  public static final int MAX_PAYLOAD_BYTES = 256 * 1024;

  public EventData {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "event "
              + type
              + " has "
              + payload.length
              + " bytes; at most "
              + MAX_PAYLOAD_BYTES
              + " are allowed");
    }
  }
}
