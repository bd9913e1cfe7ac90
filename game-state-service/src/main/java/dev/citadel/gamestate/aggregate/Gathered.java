package dev.citadel.gamestate.aggregate;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * After-commit work written together ({@link KeyedBatches}, one lane): items handed in while one
 * batch is being written go in the next one, in the order they came (so one player's later update
 * never overtakes an earlier one). A lone item is written at once; nothing waits for a timer. One
 * batch is written at a time, at most {@code maxBatch} items, for at most {@code maxWrite}; at most
 * {@code maxWaiting} wait besides (past it an item is dropped at once, counted and logged now and
 * then: after-commit work is a projection, lost like any other failure of it, never a queue without
 * end when Redis is down). An item's {@code Mono} ends when its batch was written or tried: a batch
 * that fails is logged once, here, and the next one goes.
 */
public final class Gathered<T> {
  private static final Logger log = LoggerFactory.getLogger(Gathered.class);

  /** Items a call carries by default: bounds how long one call keeps Redis busy. */
  public static final int BATCH = 500;

  /** Items waiting at most by default (while Redis is slow or down). */
  public static final int WAITING = 50_000;

  /** How long one call may take by default before it counts as failed and the next goes. */
  public static final Duration WRITE = Duration.ofSeconds(5);

  /** An item, equal only to itself: two equal items may share a batch. */
  private static final class Item<T> {
    final T value;

    Item(T value) {
      this.value = value;
    }
  }

  private final String name;
  private final int limit;
  private final KeyedBatches<Integer, Item<T>> batches;
  private final AtomicInteger held = new AtomicInteger(); // waiting or being written
  private final AtomicLong dropped = new AtomicLong();

  /**
   * With the default bounds ({@link #BATCH}, {@link #WAITING}, {@link #WRITE}), its drops counted
   * ({@link #counted}).
   */
  public Gathered(String name, Function<List<T>, Mono<Void>> writer, MeterRegistry meters) {
    this(name, writer, BATCH, WAITING, WRITE);
    counted(meters);
  }

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
    this.limit = maxWaiting + maxBatch; // those waiting, and one batch being written
    this.batches =
        new KeyedBatches<Integer, Item<T>>(
            (lane, items) -> write(writer, items, maxWrite), item -> item, maxBatch);
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
    return Mono.defer(
        () -> {
          if (held.incrementAndGet() > limit) {
            held.decrementAndGet();
            // Dropped, and logged here at the first and every 10,000th: an error to each would be
            // logged by the host once per item, thousands a second.
            long n = dropped.incrementAndGet();
            if (n == 1 || n % 10_000 == 0) {
              log.warn("{} {} items dropped: {} wait to be written", n, name, limit);
            }
            return Mono.empty();
          }
          return batches.submit(0, new Item<>(item)).doFinally(signal -> held.decrementAndGet());
        });
  }

  /** One batch; a failure is logged once, here, and its items end as tried. */
  private Mono<Map<Object, Throwable>> write(
      Function<List<T>, Mono<Void>> writer, List<Item<T>> items, Duration maxWrite) {
    List<T> values = new ArrayList<>(items.size());
    items.forEach(i -> values.add(i.value));
    return Mono.defer(() -> writer.apply(values))
        .timeout(maxWrite)
        .onErrorResume(
            e -> {
              log.warn("{} {} items not written: {}", items.size(), name, e.toString());
              return Mono.empty();
            })
        .thenReturn(Map.of());
  }
}
