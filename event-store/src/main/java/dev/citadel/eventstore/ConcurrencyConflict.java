package dev.citadel.eventstore;

/**
 * The stream was not at the expected version: another writer got there first. The caller's view of
 * the stream is stale; it must reload before trying again.
 */
public final class ConcurrencyConflict extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String aggregateId;
  private final long expectedVersion;

  public ConcurrencyConflict(String aggregateId, long expectedVersion) {
    super(
        "stream "
            + aggregateId
            + " is no longer at version "
            + expectedVersion
            + " (another writer appended first)");
    this.aggregateId = aggregateId;
    this.expectedVersion = expectedVersion;
  }

  public String aggregateId() {
    return aggregateId;
  }

  public long expectedVersion() {
    return expectedVersion;
  }
}
