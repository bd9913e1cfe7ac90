package dev.citadel.gamestate.aggregate;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Values looked up for many callers at once (the stored version of streams, their newer events):
 * whoever asks while a lookup runs waits for the next, which takes everyone waiting (up to {@code
 * maxBatch}); at most {@code maxInFlight} lookups run at once. A caller asks after it arrived, and
 * the lookup starts after that, so what it answers includes every write committed before the caller
 * asked (the same guarantee as its own query, for a fraction of the queries). Past {@code
 * maxWaiting} callers waiting, a caller is refused at once ({@link Overloaded}); one that has
 * waited longer than {@code maxWait} for a lookup to start (a slow database) is refused as well,
 * not looked up. (A "lookup" may also be a call that does something for each key: the calls between
 * game-state instances are sent this way, many in one request.)
 */
public final class GroupedLookups<K, V> {
  private static final Logger log = LoggerFactory.getLogger(GroupedLookups.class);

  private record Waiter<K, V>(K key, MonoSink<V> sink, long sinceNanos) {}

  private final String name;
  private final String what;
  private final Function<Collection<K>, Mono<Map<K, V>>> lookup;
  private final V absent;
  private final int maxBatch;
  private final int maxInFlight;
  private final int maxWaiting;
  private final long maxWaitNanos;
  private final LongSupplier nanoTime;
  private final ArrayDeque<Waiter<K, V>> waiting = new ArrayDeque<>();
  private int inFlight;

  /**
   * @param name the {@link Overloaded} resource named when a caller is refused
   * @param what what a caller waits for, in the refusal's message ("a version check")
   * @param lookup the values of the distinct keys asked; a key it leaves out gets {@code absent}
   */
  public GroupedLookups(
      String name,
      String what,
      Function<Collection<K>, Mono<Map<K, V>>> lookup,
      V absent,
      int maxBatch,
      int maxInFlight,
      int maxWaiting,
      Duration maxWait,
      LongSupplier nanoTime) {
    if (maxBatch < 1 || maxInFlight < 1 || maxWaiting < 1 || maxWait.isNegative()) {
      throw new IllegalArgumentException("the bounds of grouped lookups must be positive");
    }
    this.name = name;
    this.what = what;
    this.lookup = lookup;
    this.absent = absent;
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.maxWaiting = maxWaiting;
    this.maxWaitNanos = maxWait.toNanos();
    this.nanoTime = nanoTime;
  }

  /** The key's value, as of a lookup started after now. */
  public Mono<V> get(K key) {
    return Mono.create(
        sink -> {
          boolean refused;
          Waiter<K, V> waiter = new Waiter<>(key, sink, nanoTime.getAsLong());
          synchronized (this) {
            refused = waiting.size() >= maxWaiting;
            if (!refused) {
              waiting.add(waiter);
            }
          }
          if (!refused) {
            // A caller that gave up (its request cancelled, a timeout above) leaves the queue: it
            // no longer counts toward the bound nor joins a lookup. (Once taken, it is answered
            // into the void.)
            sink.onCancel(
                () -> {
                  synchronized (this) {
                    waiting.removeIf(w -> w == waiter); // by identity: keys may be large
                  }
                });
          }
          if (refused) {
            // Answered outside the lock: the caller's error path (its 503) runs on this thread.
            sink.error(new Overloaded(name, maxWaiting + " already wait for " + what));
            return;
          }
          drain();
        });
  }

  /**
   * Starts lookups while callers wait and a slot is free; first refuses those who waited too long
   * (the oldest are first in line).
   */
  private void drain() {
    while (true) {
      List<Waiter<K, V>> batch = null;
      List<Waiter<K, V>> expired = new ArrayList<>();
      synchronized (this) {
        long now = nanoTime.getAsLong();
        while (!waiting.isEmpty() && now - waiting.peek().sinceNanos() > maxWaitNanos) {
          expired.add(waiting.poll());
        }
        if (!waiting.isEmpty() && inFlight < maxInFlight) {
          inFlight++;
          batch = new ArrayList<>(Math.min(waiting.size(), maxBatch));
          while (!waiting.isEmpty() && batch.size() < maxBatch) {
            batch.add(waiting.poll());
          }
        }
      }
      // The batch first: answering the expired callers may throw (a fatal error rethrown), and
      // a batch taken but never started would hold the slot for ever.
      if (batch != null) {
        start(batch);
      }
      if (!expired.isEmpty()) {
        answer(
            expired,
            null,
            new Overloaded(name, "waited over " + Duration.ofNanos(maxWaitNanos) + " for " + what));
      }
      if (batch == null) {
        return;
      }
    }
  }

  private void start(List<Waiter<K, V>> batch) {
    // Once: Reactor hands an error thrown by the value consumer to the error consumer as well.
    AtomicBoolean finished = new AtomicBoolean();
    Mono.defer(() -> lookup.apply(batch.stream().map(Waiter::key).distinct().toList()))
        .defaultIfEmpty(Map.of())
        .subscribe(
            values -> {
              if (finished.compareAndSet(false, true)) {
                finish(batch, values, null);
              }
            },
            error -> {
              if (finished.compareAndSet(false, true)) {
                finish(batch, null, error);
              } else {
                log.warn("a lookup for {} failed after it had answered", what, error);
              }
            });
  }

  /**
   * Frees the slot and starts the next lookup (for those who waited meanwhile), then answers this
   * one's callers: every one of them, whatever one of them throws. A failed lookup (a database down
   * or stuck past the timeout) fails everyone waiting as well: the next lookups would most likely
   * fail too, one after another, while each waiting read holds its player's turn.
   */
  private void finish(List<Waiter<K, V>> batch, Map<K, V> values, Throwable error) {
    if (error != null) {
      List<Waiter<K, V>> all = new ArrayList<>(batch);
      synchronized (this) {
        inFlight--;
        all.addAll(waiting);
        waiting.clear();
      }
      answer(all, null, error);
    } else {
      synchronized (this) {
        inFlight--;
      }
      drain();
      answer(batch, values, null);
    }
  }

  private void answer(List<Waiter<K, V>> batch, Map<K, V> values, Throwable error) {
    Error fatal = null;
    for (Waiter<K, V> w : batch) {
      try {
        if (error != null) {
          w.sink().error(error);
        } else {
          V value = values.get(w.key());
          w.sink().success(value != null ? value : absent);
        }
      } catch (RuntimeException e) {
        // One caller's failure must not leave the others waiting (each holds its player's turn).
        log.warn("a caller of {} failed on its answer", what, e);
      } catch (Error e) {
        // The same for a fatal one, which is passed on once everyone is answered.
        log.warn("a caller of {} failed on its answer", what, e);
        if (fatal == null) {
          fatal = e;
        }
      }
    }
    if (fatal != null) {
      throw fatal;
    }
  }
}
