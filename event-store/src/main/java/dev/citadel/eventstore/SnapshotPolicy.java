package dev.citadel.eventstore;

/**
 * When to snapshot a stream of one aggregate type and what to keep.
 *
 * @param every take a snapshot each time the version crosses a multiple of this (default 300)
 * @param retention whether old snapshots and covered events are deleted (off for types that need
 *     their full history)
 * @param keepSnapshots how many newest snapshots retention keeps (default 2); events up to the
 *     oldest kept one are deleted once published
 */
public record SnapshotPolicy(int every, boolean retention, int keepSnapshots) {
  public static final SnapshotPolicy DEFAULT = new SnapshotPolicy(300, true, 2);

  public SnapshotPolicy {
    if (every < 1) {
      throw new IllegalArgumentException("snapshot interval must be positive");
    }
    if (keepSnapshots < 1) {
      throw new IllegalArgumentException("keep at least one snapshot");
    }
  }

  /** Whether an append that moved the stream from {@code before} to {@code after} is due one. */
  public boolean due(long before, long after) {
    return before / every < after / every;
  }
}
