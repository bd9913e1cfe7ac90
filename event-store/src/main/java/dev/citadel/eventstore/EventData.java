package dev.citadel.eventstore;

import java.util.Objects;

/**
 * One event to append: its type name (the protobuf full name) and its serialized bytes.
 *
 * @param type e.g. {@code citadel.player.v1.GoldEarned}
 */
public record EventData(String type, byte[] payload) {
  public EventData {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(payload, "payload");
  }
}
