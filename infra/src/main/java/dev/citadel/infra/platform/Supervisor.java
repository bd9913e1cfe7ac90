package dev.citadel.infra.platform;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Keeps the local platform's services running: a service that exits while the platform runs is
 * reported and started again after a back-off that grows while it keeps dying (1 s, 2 s, 4 s, ...
 * at most 30 s) and starts over once a run has lasted a minute.
 *
 * <p>A restart waits for the new process to be healthy before it counts as back. Stopping the
 * supervisor cancels pending restarts; a process started by a restart that was already under way is
 * handed back by {@link #stop()} so that the caller stops it too.
 */
final class Supervisor {

  /** A process the supervisor can watch and start again. */
  interface Supervised {
    String name();

    /** Completes with the exit code when the process ends. */
    CompletableFuture<Integer> exited();

    /** Starts the same service again as a new process (returns at once). */
    Supervised restart();

    /** Waits until the new process serves; throws if it dies or does not in time. */
    void awaitHealthy() throws InterruptedException;

    /** Where its output goes (said when it dies). */
    String logName();
  }

  static final Duration FIRST_BACKOFF = Duration.ofSeconds(1);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
  static final Duration STABLE_AFTER = Duration.ofMinutes(1);

  /** The wait before restart number {@code failuresInARow} (1 for the first). Pure. */
  static Duration backoff(int failuresInARow, Duration first, Duration max) {
    int doublings = Math.min(Math.max(failuresInARow - 1, 0), 30);
    long millis = first.toMillis() << doublings;
    return millis <= 0 || millis > max.toMillis() ? max : Duration.ofMillis(millis);
  }

  private final Consumer<String> out;
  private final Duration first;
  private final Duration max;
  private final ScheduledExecutorService restarts;
  private final Map<String, Supervised> current = new LinkedHashMap<>();
  private final Map<String, Integer> failures = new LinkedHashMap<>();
  private final Map<String, Long> startedAt = new LinkedHashMap<>();
  private int restartCount;
  private boolean stopping;

  Supervisor(Consumer<String> out, Duration first, Duration max) {
    this.out = out;
    this.first = first;
    this.max = max;
    this.restarts =
        Executors.newScheduledThreadPool(
            2, // a restart waits for health; another service's restart need not wait for it
            r -> {
              Thread t = new Thread(r, "citadel-supervisor");
              t.setDaemon(true);
              return t;
            });
  }

  /** Starts watching {@code service}, which is running now. */
  synchronized void watch(Supervised service) {
    current.put(service.name(), service);
    startedAt.put(service.name(), System.nanoTime());
    service.exited().thenAccept(code -> died(service, code));
  }

  /** How many restarts have been started so far. */
  synchronized int restarts() {
    return restartCount;
  }

  /** The process now running (or being started) for each watched service. */
  synchronized List<Supervised> current() {
    return new ArrayList<>(current.values());
  }

  /**
   * Stops supervising: no restart starts after this returns. Returns the processes the caller must
   * stop, including any started by a restart that was under way.
   */
  List<Supervised> stop() {
    synchronized (this) {
      stopping = true;
    }
    restarts.shutdownNow();
    try {
      restarts.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return current();
  }

  private synchronized void died(Supervised process, int code) {
    if (stopping || current.get(process.name()) != process) {
      return; // stopped on purpose, or an old process of a service already restarted
    }
    String name = process.name();
    long lived = System.nanoTime() - startedAt.getOrDefault(name, System.nanoTime());
    int failed = lived >= STABLE_AFTER.toNanos() ? 1 : failures.getOrDefault(name, 0) + 1;
    failures.put(name, failed);
    Duration wait = backoff(failed, first, max);
    out.accept(
        String.format(
            "!! %s exited with code %d (log %s); restarting in %d ms (attempt %d)",
            name, code, process.logName(), wait.toMillis(), failed));
    restarts.schedule(() -> restart(process), wait.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void restart(Supervised old) {
    Supervised next;
    synchronized (this) {
      if (stopping) {
        return;
      }
      try {
        next = old.restart();
      } catch (RuntimeException e) {
        out.accept("!! " + old.name() + " could not be started: " + e.getMessage());
        next = null;
      }
      if (next != null) {
        restartCount++;
        current.put(old.name(), next);
        startedAt.put(old.name(), System.nanoTime());
      }
    }
    if (next == null) {
      synchronized (this) {
        startedAt.put(old.name(), System.nanoTime()); // a failed start is not a minute of uptime
      }
      died(old, -1);
      return;
    }
    Supervised started = next;
    // Watched before waiting: a process that dies while starting is restarted again.
    started.exited().thenAccept(code -> died(started, code));
    try {
      started.awaitHealthy();
      synchronized (this) {
        if (!stopping && current.get(old.name()) == started) {
          out.accept("   " + old.name() + " is back");
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException notHealthy) {
      out.accept("!! " + old.name() + " did not come back: " + notHealthy.getMessage());
    }
  }
}
