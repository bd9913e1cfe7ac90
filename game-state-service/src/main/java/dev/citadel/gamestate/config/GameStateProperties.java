package dev.citadel.gamestate.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** Settings of a game-state instance; see application.yml for the defaults. */
@ConfigurationProperties("citadel")
public record GameStateProperties(
    String instanceId,
    dev.citadel.eventstore.PostgresSettings postgres,
    dev.citadel.messaging.kafka.KafkaConnection kafka,
    GameState gameState) {

  public record GameState(
      int snapshotEvery,
      int keepSnapshots,
      Duration idleTimeout,
      int maxResident,
      int maxConcurrentRecoveries,
      Duration sweepInterval,
      String accountsTopic,
      Rooms rooms,
      Outbox outbox,
      Transactions transactions,
      java.util.Map<String, Long> catalogue,
      Duration idempotencyKeysKept,
      Results results,
      Overload overload) {
    public GameState {
      if (overload == null) {
        overload = new Overload(64, 1_000, 10_000, 10_000);
      }
      if (outbox != null && !outbox.enabled()) {
        throw new IllegalArgumentException(
            "citadel.game-state.outbox.enabled must be true: players' seats follow the match"
                + " streams through the outbox");
      }
    }
  }

  /**
   * Two-phase commit. {@code instances}: every game-state instance's URL as the gateway routes to
   * them (empty: this instance is the only one); {@code selfUrl}: this one among them; {@code
   * holdFor}: how long a prepared player waits for the decision (at most 30 s).
   */
  public record Transactions(
      java.util.List<String> instances,
      String selfUrl,
      Duration prepareTimeout,
      Duration holdFor,
      Duration commitTimeout,
      Duration probeInterval,
      Duration probeTimeout) {}

  /** Rooms for matches: channels x rooms per channel, and the hand-off topics. */
  public record Rooms(
      int channels,
      int roomsPerChannel,
      String foundTopic,
      String assignedTopic,
      String rejectedTopic,
      String endedTopic) {}

  /**
   * Match results: a match not ended {@code maxGameLength} after its placement is ended without a
   * result; ratings and rewards are {@code defaults} unless {@code queues} names the queue (a whole
   * set of rules per queue).
   */
  public record Results(
      Duration maxGameLength,
      Duration sweepInterval,
      dev.citadel.gamestate.results.QueueRules defaults,
      java.util.Map<String, dev.citadel.gamestate.results.QueueRules> queues) {
    public Results {
      queues = queues == null ? java.util.Map.of() : java.util.Map.copyOf(queues);
    }

    public dev.citadel.gamestate.results.QueueRules rules(String queue) {
      return queues.getOrDefault(queue, defaults);
    }
  }

  public record Outbox(
      boolean enabled, String name, String topic, int batchSize, Duration idlePoll) {}

  /**
   * Bounds on waiting work: past each, a request is refused at once with 503 and {@code
   * Retry-After} instead of queueing (counted in {@code citadel_requests_shed_total}).
   *
   * @param maxPendingPerPlayer requests queued or running on one player
   * @param maxWaitingRecoveries player loads waiting for a recovery slot
   * @param maxQueuedAppends appends waiting for the database (the group committer)
   * @param maxWaitingReads reads waiting for their version check (one query for many reads)
   */
  public record Overload(
      int maxPendingPerPlayer,
      int maxWaitingRecoveries,
      int maxQueuedAppends,
      int maxWaitingReads) {
    public Overload {
      // A block that leaves one out binds it to 0: say which.
      positive("max-pending-per-player", maxPendingPerPlayer);
      positive("max-waiting-recoveries", maxWaitingRecoveries);
      positive("max-queued-appends", maxQueuedAppends);
      positive("max-waiting-reads", maxWaitingReads);
    }

    private static void positive(String name, int value) {
      if (value < 1) {
        throw new IllegalArgumentException(
            "citadel.game-state.overload." + name + " must be at least 1, not " + value);
      }
    }
  }
}
