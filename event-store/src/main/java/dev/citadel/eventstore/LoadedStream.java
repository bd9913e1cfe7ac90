package dev.citadel.eventstore;

import java.util.List;
import java.util.Optional;

/**
 * What recovering a stream needs: the newest snapshot, if any, and only the events after it.
 *
 * @param version the stream's current version (0 if it does not exist)
 */
public record LoadedStream(
    String aggregateId, Optional<Snapshot> snapshot, List<StoredEvent> events, long version) {

  public boolean exists() {
    return version > 0;
  }
}
