package dev.citadel.gamestate.aggregate;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * After-commit work written together: items handed in while one batch is being written go in the
 * next one, in the order they came (so one player's later update never overtakes an earlier one). A
 * lone item is written at once; nothing waits for a timer. One batch is written at a time, at most
 * {@code maxBatch} items, for at most {@code maxWrite}; at most {@code maxWaiting} wait besides
 * (past it an item is dropped at once, counted and logged now and then: after-commit work is a
 * projection, lost like any other failure of it, never a queue without end when Redis is down). An
 * item's {@code Mono} ends when its batch was written or tried: a batch that fails is logged once,
 * here, and the next one goes.
 */
public final class Gathered<T> {
  private static final Logger log = LoggerFactory.getLogger(Gathered.class);

  private record Waiting<T>(T item, MonoSink<Void> sink) {}

  private final String name;
  private final Function<List<T>, Mono<Void>> writer;
  private final int maxBatch;
  private final int maxWaiting;
  private final Duration maxWrite;
  private final ArrayDeque<Waiting<T>> waiting = new ArrayDeque<>(); // guarded by this
  private boolean writing; // guarded by this
  private final AtomicLong dropped = new AtomicLong();

  /**
   * @param name what is written, for the log
   * @param maxWrite how long one batch may take; past it the batch counts as failed and the next
   *     one goes
   */
  public Gathered(
      String name,
      Function<List<T>, Mono<Void>> writer,
      int maxBatch,
      int maxWaiting,
      Duration maxWrite) {
    if (maxBatch < 1 || maxWaiting < maxBatch || maxWrite.isNegative() || maxWrite.isZero()) {
      throw new IllegalArgumentException(
          "maxBatch " + maxBatch + ", maxWaiting " + maxWaiting + ", maxWrite " + maxWrite);
    }
    this.name = name;
    this.writer = writer;
    this.maxBatch = maxBatch;
    this.maxWaiting = maxWaiting;
    this.maxWrite = maxWrite;
  }

  /** Items dropped so far because {@code maxWaiting} waited already. */
  public long dropped() {
    return dropped.get();
  }

  /** {@code citadel_after_commit_dropped_total{work=name}}: {@link #dropped}. */
  public Gathered<T> counted(MeterRegistry meters) {
    FunctionCounter.builder("citadel_after_commit_dropped", this, Gathered::dropped)
        .description("After-commit work dropped because too much waited to be written")
        .tag("work", name)
        .register(meters);
    return this;
  }

  /** Dropped (and counted, see {@link #dropped}) when {@code maxWaiting} items wait already. */
  public Mono<Void> add(T item) {
    return Mono.create(
        sink -> {
          boolean accepted;
          boolean start = false;
          synchronized (this) {
            accepted = waiting.size() < maxWaiting;
            if (accepted) {
              waiting.add(new Waiting<>(item, sink));
              start = !writing; // else the batch being written starts the next one when it ends
              writing = true;
            }
          }
          if (!accepted) {
            // Dropped, and logged here at the first and every 10,000th (outside the lock): an
            // error to each would be logged by the host once per item, thousands a second.
            long n = dropped.incrementAndGet();
            if (n == 1 || n % 10_000 == 0) {
              log.warn("{} {} items dropped: {} wait to be written", n, name, maxWaiting);
            }
            sink.success();
          } else if (start) {
            next();
          }
        });
  }

  /**
   * Writes batches while this thread has the turn: a batch that ends during its own subscribe
   * leaves the turn here (a loop, not recursion); one that ends later continues on the thread that
   * ends it.
   */
  private void next() {
    while (true) {
      List<Waiting<T>> batch = take();
      if (batch.isEmpty()) {
        return;
      }
      List<T> items = new ArrayList<>(batch.size());
      batch.forEach(w -> items.add(w.item()));
      AtomicBoolean handedOver = new AtomicBoolean();
      Mono.defer(() -> writer.apply(items))
          .timeout(maxWrite)
          .subscribe(
              done -> {},
              e -> {
                try {
                  // Logged once for the batch, here (the host logs a failed item, so each item
                  // failing would log one failure hundreds of times); its items end as tried.
                  log.warn("{} {} items not written: {}", batch.size(), name, e.toString());
                  batch.forEach(w -> w.sink().success());
                } finally {
                  ended(handedOver);
                }
              },
              () -> {
                try {
                  batch.forEach(w -> w.sink().success());
                } finally {
                  ended(handedOver);
                }
              });
      if (!handedOver.compareAndSet(false, true)) {
        continue; // ended during subscribe: keep the turn here
      }
      return;
    }
  }

  private void ended(AtomicBoolean handedOver) {
    if (handedOver.compareAndSet(false, true)) {
      return; // next() is still inside subscribe and continues itself
    }
    next();
  }

  /** The next batch, or none (and the turn given up) when nothing waits. */
  private synchronized List<Waiting<T>> take() {
    List<Waiting<T>> batch = new ArrayList<>(Math.min(maxBatch, waiting.size()));
    while (batch.size() < maxBatch && !waiting.isEmpty()) {
      batch.add(waiting.pollFirst());
    }
    if (batch.isEmpty()) {
      writing = false;
    }
    return batch;
  }
}
