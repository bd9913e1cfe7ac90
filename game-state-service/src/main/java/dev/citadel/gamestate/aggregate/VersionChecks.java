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
 * The stored version of streams, looked up for many callers at once: whoever asks while a lookup
 * runs waits for the next, which takes everyone waiting (up to {@code maxBatch}); at most {@code
 * maxInFlight} lookups run at once. A read asks after it arrived, and the lookup starts after that,
 * so what it answers includes every write committed before the read began (the same guarantee as
 * reading the stream itself, for a fraction of the queries). Past {@code maxWaiting} callers
 * waiting, a caller is refused at once ({@link Overloaded}); one that has waited longer than {@code
 * maxWait} for a lookup to start (a slow database) is refused as well, not looked up.
 */
final class VersionChecks {
  private static final Logger log = LoggerFactory.getLogger(VersionChecks.class);

  private record Waiter(String id, MonoSink<Long> sink, long sinceNanos) {}

  private final Function<Collection<String>, Mono<Map<String, Long>>> lookup;
  private final int maxBatch;
  private final int maxInFlight;
  private final int maxWaiting;
  private final long maxWaitNanos;
  private final LongSupplier nanoTime;
  private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
  private int inFlight;

  /**
   * @param lookup the stored version of each stream that exists (absent: never written)
   */
  VersionChecks(
      Function<Collection<String>, Mono<Map<String, Long>>> lookup,
      int maxBatch,
      int maxInFlight,
      int maxWaiting,
      Duration maxWait,
      LongSupplier nanoTime) {
    if (maxBatch < 1 || maxInFlight < 1 || maxWaiting < 1 || maxWait.isNegative()) {
      throw new IllegalArgumentException("the bounds of version checks must be positive");
    }
    this.lookup = lookup;
    this.maxBatch = maxBatch;
    this.maxInFlight = maxInFlight;
    this.maxWaiting = maxWaiting;
    this.maxWaitNanos = maxWait.toNanos();
    this.nanoTime = nanoTime;
  }

  /** Without a bound on a caller's wait (tests of the grouping alone). */
  VersionChecks(
      Function<Collection<String>, Mono<Map<String, Long>>> lookup,
      int maxBatch,
      int maxInFlight,
      int maxWaiting) {
    this(lookup, maxBatch, maxInFlight, maxWaiting, Duration.ofDays(365), System::nanoTime);
  }

  /** The stream's stored version (0 if it was never written), as of a lookup started after now. */
  Mono<Long> version(String id) {
    return Mono.create(
        sink -> {
          boolean refused;
          synchronized (this) {
            refused = waiting.size() >= maxWaiting;
            if (!refused) {
              waiting.add(new Waiter(id, sink, nanoTime.getAsLong()));
            }
          }
          if (refused) {
            // Answered outside the lock: the caller's error path (its 503) runs on this thread.
            sink.error(
                new Overloaded(
                    "version-checks", maxWaiting + " reads already wait for a version check"));
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
      List<Waiter> batch = null;
      List<Waiter> expired = new ArrayList<>();
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
            new Overloaded(
                "version-checks",
                "waited over " + Duration.ofNanos(maxWaitNanos) + " for a version check"));
      }
      if (batch == null) {
        return;
      }
    }
  }

  private void start(List<Waiter> batch) {
    // Once: Reactor hands an error thrown by the value consumer to the error consumer as well.
    AtomicBoolean finished = new AtomicBoolean();
    Mono.defer(() -> lookup.apply(batch.stream().map(Waiter::id).distinct().toList()))
        .defaultIfEmpty(Map.of())
        .subscribe(
            versions -> {
              if (finished.compareAndSet(false, true)) {
                finish(batch, versions, null);
              }
            },
            error -> {
              if (finished.compareAndSet(false, true)) {
                finish(batch, null, error);
              } else {
                log.warn("a version check failed after it had answered", error);
              }
            });
  }

  /**
   * Frees the slot and starts the next lookup (for those who waited meanwhile), then answers this
   * one's callers: every one of them, whatever one of them throws. A failed lookup (a database down
   * or stuck past the timeout) fails everyone waiting as well: the next lookups would most likely
   * fail too, one after another, while each waiting read holds its player's turn.
   */
  private void finish(List<Waiter> batch, Map<String, Long> versions, Throwable error) {
    if (error != null) {
      List<Waiter> all = new ArrayList<>(batch);
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
      answer(batch, versions, null);
    }
  }

  private void answer(List<Waiter> batch, Map<String, Long> versions, Throwable error) {
    Error fatal = null;
    for (Waiter w : batch) {
      try {
        if (error != null) {
          w.sink().error(error);
        } else {
          Long version = versions.get(w.id());
          w.sink().success(version != null ? version : 0L);
        }
      } catch (RuntimeException e) {
        // One caller's failure must not leave the others waiting (each holds its player's turn).
        log.warn("a version check's caller failed on its answer", e);
      } catch (Error e) {
        // The same for a fatal one, which is passed on once everyone is answered.
        log.warn("a version check's caller failed on its answer", e);
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
