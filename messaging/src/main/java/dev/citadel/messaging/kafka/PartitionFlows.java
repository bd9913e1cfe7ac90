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
 * <p>A rebalance may take a partition away and give it back: its pause is then set again as the
 * flow has it ({@link #assigned}: paused, or resumed, which also clears reactor-kafka's record of
 * our pause, which it would otherwise restore on the new assignment for ever). Should a pause be
 * lost anyway, every {@code high / 2} further records ask for it again (pausing twice is harmless):
 * a lost pause costs at most that many records.
 *
 * <p>One instance per subscription to the receiver; {@link #close} when it ends. Thread-safe:
 * records arrive on the receiver's thread, are handled on any.
 */
final class PartitionFlows {
  private static final Logger log = LoggerFactory.getLogger(PartitionFlows.class);

  /**
   * Pauses and resumes one partition's fetching (both must be harmless when repeated), and runs
   * work on the consumer's own thread.
   */
  interface Switch {
    void pause(TopicPartition partition);

    void resume(TopicPartition partition);

    /**
     * Runs {@code task} on the consumer's thread between two polls (a rebalance's listeners run
     * within a poll, so never in the middle of one), or never if the consumer is gone.
     */
    void onConsumerThread(Runnable task);
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
  private final AtomicInteger heldNow;
  private final Map<TopicPartition, Flow> flows = new ConcurrentHashMap<>();
  private boolean closed; // guarded by this

  /**
   * @param pausedNow partitions paused by this and the consumer's other subscriptions (a gauge)
   * @param heldNow records held by them (a gauge)
   */
  PartitionFlows(
      int high, int low, Switch consumer, AtomicInteger pausedNow, AtomicInteger heldNow) {
    if (low < 0 || low >= high) {
      throw new IllegalArgumentException("need 0 <= low < high, got " + low + ", " + high);
    }
    this.high = high;
    this.low = low;
    this.consumer = consumer;
    this.pausedNow = pausedNow;
    this.heldNow = heldNow;
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

      @Override
      public void onConsumerThread(Runnable task) {
        receiver
            .doOnConsumer(
                c -> {
                  task.run();
                  return Boolean.TRUE;
                })
            .subscribe(
                done -> {},
                // Only when the consumer is gone (a restart): the new one starts from the commit.
                e -> log.debug("consumer of group {} gone before a task: {}", groupId, e));
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

  /**
   * A rebalance gave these partitions to this consumer (again): each is paused or resumed as its
   * flow has it, whatever a pause or resume asked for while it was not assigned (skipped then).
   */
  void assigned(Collection<TopicPartition> partitions) {
    for (TopicPartition partition : partitions) {
      Flow flow = flows.get(partition);
      if (flow != null) {
        flow.reassert(partition);
      } else {
        consumer.resume(partition);
      }
    }
  }

  /**
   * Acknowledges a handled record ({@code ack}: its offset may be committed) on the consumer's
   * thread, if its partition is still this consumer's in the record's turn by then; else never.
   * Done there, not on the handler's thread: a rebalance commits what is acknowledged, then calls
   * {@link #revoked}, both within one poll, so an acknowledgement lands before both (committed by
   * the rebalance) or after both (dropped). Checked and acknowledged on a handler's thread, it
   * could land in between, and be committed at the next interval for a partition another consumer
   * owns by then: that owner's committed offset moved back, its records handled twice.
   */
  void acknowledge(TopicPartition partition, long turn, Runnable ack) {
    Flow flow = flows.get(partition);
    if (flow != null && flow.acknowledge(turn, ack)) {
      consumer.onConsumerThread(flow::flush);
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
    private List<Runnable> acks = new java.util.ArrayList<>();
    private boolean flushing;

    synchronized long received(TopicPartition partition) {
      if (!open()) {
        return turn; // the subscription ended: its counts were given back, nothing is held
      }
      waiting++;
      heldNow.incrementAndGet();
      if (waiting < high) {
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
      acks = new java.util.ArrayList<>(); // of the turn that ended: never acknowledged
    }

    /** Keeps {@code ack} of the given turn for {@link #flush}; true if a flush must be asked. */
    synchronized boolean acknowledge(long ofTurn, Runnable ack) {
      if (ofTurn != turn) {
        return false;
      }
      acks.add(ack);
      if (flushing) {
        return false;
      }
      flushing = true;
      return true;
    }

    /**
     * On the consumer's thread: what was acknowledged in this turn. Run there, it cannot interleave
     * with {@link #revoked} (also on that thread), which drops what it has not run yet.
     */
    void flush() {
      List<Runnable> now;
      synchronized (this) {
        now = acks;
        acks = new java.util.ArrayList<>();
        flushing = false;
      }
      now.forEach(Runnable::run);
    }

    synchronized long turn() {
      return turn;
    }

    synchronized void handled(TopicPartition partition, int records) {
      int counted = Math.min(waiting, records);
      waiting -= counted;
      heldNow.addAndGet(-counted);
      if (paused && waiting <= low) {
        paused = false;
        pausedNow.decrementAndGet();
        if (open()) {
          consumer.resume(partition);
        }
      }
    }

    /**
     * Pauses or resumes the partition as this flow has it, decided and asked under the flow's lock:
     * a resume asked by {@link #handled} meanwhile cannot land between the decision and the call
     * (and be undone by a pause decided before it).
     */
    synchronized void reassert(TopicPartition partition) {
      if (paused) {
        consumer.pause(partition);
      } else {
        consumer.resume(partition);
      }
    }

    synchronized void forget() {
      heldNow.addAndGet(-waiting);
      waiting = 0;
      if (paused) {
        paused = false;
        pausedNow.decrementAndGet();
      }
    }
  }
}
