package dev.citadel.eventstore;

import java.util.Map;
import java.util.Optional;

/**
 * Tuning and policies of a {@link PostgresEventStore}.
 *
 * @param maxBatchEvents the most events one group-commit statement carries
 * @param maxConcurrentBatches group-commit statements in flight at once
 * @param policies snapshot policy per aggregate type; {@code defaultPolicy} for the others
 * @param outboxName when set, retention keeps every event this outbox has not yet published
 * @param maxQueuedAppends appends waiting for a group-commit statement; past it an append is
 *     refused at once ({@link StoreBusy})
 */
public record EventStoreOptions(
    int maxBatchEvents,
    int maxConcurrentBatches,
    SnapshotPolicy defaultPolicy,
    Map<String, SnapshotPolicy> policies,
    Optional<String> outboxName,
    int maxQueuedAppends) {

  public static EventStoreOptions defaults() {
    return new EventStoreOptions(
        1000, 2, SnapshotPolicy.DEFAULT, Map.of(), Optional.empty(), 10_000);
  }

  public EventStoreOptions {
    policies = Map.copyOf(policies);
    if (maxBatchEvents < 1 || maxConcurrentBatches < 1 || maxQueuedAppends < 1) {
      throw new IllegalArgumentException("batch sizes must be positive");
    }
  }

  public SnapshotPolicy policyFor(String aggregateType) {
    return policies.getOrDefault(aggregateType, defaultPolicy);
  }

  public EventStoreOptions withPolicy(String aggregateType, SnapshotPolicy policy) {
    Map<String, SnapshotPolicy> copy = new java.util.HashMap<>(policies);
    copy.put(aggregateType, policy);
    return new EventStoreOptions(
        maxBatchEvents, maxConcurrentBatches, defaultPolicy, copy, outboxName, maxQueuedAppends);
  }

  public EventStoreOptions withOutbox(String name) {
    return new EventStoreOptions(
        maxBatchEvents,
        maxConcurrentBatches,
        defaultPolicy,
        policies,
        Optional.of(name),
        maxQueuedAppends);
  }

  public EventStoreOptions withMaxQueuedAppends(int max) {
    return new EventStoreOptions(
        maxBatchEvents, maxConcurrentBatches, defaultPolicy, policies, outboxName, max);
  }
}
