package dev.citadel.messaging.kafka;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.kafka.receiver.KafkaReceiver;

/**
 * How many records of each partition a consumer holds (received, not yet handled), pausing a
 * partition's fetching at {@code high} and resuming it at {@code low}. This is the consumer's only
 * back-pressure: it takes every record it is given, so one partition stuck retrying holds up only
 * itself (a shared window, as reactor's {@code groupBy} keeps, fills with the stuck partition's
 * records and stops every other), and what it holds stays bounded.
 *
 * <p>A pause can be undone behind our back: a rebalance that hands the partition back clears it,
 * and reactor-kafka's own pause-all (when its downstream asks for nothing) resumes what it did not
 * see paused. So while a partition is over its mark, every {@code high / 2} further records ask for
 * the pause again (pausing twice is harmless): a lost pause costs at most that many records.
 *
 * <p>One instance per subscription to the receiver; {@link #close} when it ends. Thread-safe:
 * records arrive on the receiver's thread, are handled on any.
 */
final class PartitionFlows {
  private static final Logger log = LoggerFactory.getLogger(PartitionFlows.class);

  /** Pauses and resumes one partition's fetching; both must be harmless when repeated. */
  interface Switch {
    void pause(TopicPartition partition);

    void resume(TopicPartition partition);
  }

  /** The record's partition was taken away from this consumer: left to its new owner. */
  static final class Revoked extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Revoked() {
      super("partition revoked", null, false, false);
    }
  }

  private final int high;
  private final int low;
  private final Switch consumer;
  private final AtomicInteger pausedNow;
  private final Map<TopicPartition, Flow> flows = new ConcurrentHashMap<>();
  private boolean closed; // guarded by this

  /**
   * @param pausedNow partitions paused by this and the consumer's other subscriptions (a gauge)
   */
  PartitionFlows(int high, int low, Switch consumer, AtomicInteger pausedNow) {
    if (low < 0 || low >= high) {
      throw new IllegalArgumentException("need 0 <= low < high, got " + low + ", " + high);
    }
    this.high = high;
    this.low = low;
    this.consumer = consumer;
    this.pausedNow = pausedNow;
  }

  /** Pauses and resumes a partition on the receiver's own thread (the consumer is not shared). */
  static Switch switchOn(KafkaReceiver<String, byte[]> receiver, String groupId) {
    return new Switch() {
      @Override
      public void pause(TopicPartition partition) {
        onConsumer(partition, "pause", c -> c.pause(List.of(partition)));
      }

      @Override
      public void resume(TopicPartition partition) {
        onConsumer(partition, "resume", c -> c.resume(List.of(partition)));
      }

      private void onConsumer(
          TopicPartition partition,
          String what,
          java.util.function.Consumer<Consumer<String, byte[]>> action) {
        receiver
            .doOnConsumer(
                c -> {
                  // A partition revoked meanwhile is not ours to pause (the call would throw).
                  if (c.assignment().contains(partition)) {
                    action.accept(c);
                  }
                  return partition;
                })
            .subscribe(
                p -> log.debug("{} {} in group {}", what, p, groupId),
                // Only when the consumer is gone (a restart): the new one starts unpaused.
                e -> log.debug("could not {} {} in group {}: {}", what, partition, groupId, e));
      }
    };
  }

  /** Counts a record in; returns its partition's turn of ownership, for {@link #owned}. */
  long received(TopicPartition partition) {
    return flows.computeIfAbsent(partition, p -> new Flow()).received(partition);
  }

  /**
   * A rebalance took these partitions away. Their records still held are not this consumer's to
   * handle any more (the new owner, maybe this one again, starts from the last commit): each next
   * turn of ownership starts now.
   */
  void revoked(Collection<TopicPartition> partitions) {
    for (TopicPartition partition : partitions) {
      Flow flow = flows.get(partition);
      if (flow != null) {
        flow.revoked();
      }
    }
  }

  /** Whether a record received in the given turn is still this consumer's to handle. */
  boolean owned(TopicPartition partition, long turn) {
    Flow flow = flows.get(partition);
    return flow != null && flow.turn() == turn;
  }

  void handled(TopicPartition partition, int records) {
    Flow flow = flows.get(partition);
    if (flow != null) {
      flow.handled(partition, records);
    }
  }

  /** The subscription ended: its consumer is gone, and with it every pause. */
  void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    for (Flow flow : flows.values()) {
      flow.forget();
    }
  }

  private synchronized boolean open() {
    return !closed;
  }

  private final class Flow {
    private int waiting;
    private boolean paused;
    private int sincePause;
    private long turn;

    synchronized long received(TopicPartition partition) {
      waiting++;
      if (waiting < high || !open()) {
        return turn;
      }
      if (!paused) {
        paused = true;
        pausedNow.incrementAndGet();
        sincePause = 0;
        consumer.pause(partition);
      } else if (++sincePause >= Math.max(1, high / 2)) {
        sincePause = 0;
        consumer.pause(partition);
      }
      return turn;
    }

    synchronized void revoked() {
      turn++;
    }

    synchronized long turn() {
      return turn;
    }

    synchronized void handled(TopicPartition partition, int records) {
      waiting = Math.max(0, waiting - records);
      if (paused && waiting <= low) {
        paused = false;
        pausedNow.decrementAndGet();
        if (open()) {
          consumer.resume(partition);
        }
      }
    }

    synchronized void forget() {
      if (paused) {
        paused = false;
        pausedNow.decrementAndGet();
      }
    }
  }
}
