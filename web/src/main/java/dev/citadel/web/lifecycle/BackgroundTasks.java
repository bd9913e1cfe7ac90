package dev.citadel.web.lifecycle;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * A service's background work (consumers, tick loops, probes, the outbox), started with the
 * application once every bean is ready and disposed when it stops, before the pools it uses close.
 * Each task starts itself and answers what stops it.
 */
public final class BackgroundTasks implements SmartLifecycle {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(BackgroundTasks.class);

  /** One piece of background work: starts it, answers what stops it. */
  @FunctionalInterface
  public interface Task {
    Disposable start();
  }

  /**
   * Work that can finish what it is doing when the service stops: no new work, the work in hand
   * completed, what it holds given back (a lock another replica is waiting for). Disposing it stops
   * it at once.
   */
  public interface Graceful extends Disposable {
    /** Completes once it has stopped. */
    Mono<Void> stopGracefully();

    /** {@code running}, disposed as it is, stopped gracefully by {@code finish}. */
    static Graceful of(Disposable running, java.util.function.Supplier<Mono<Void>> finish) {
      return new Graceful() {
        @Override
        public Mono<Void> stopGracefully() {
          return finish.get();
        }

        @Override
        public void dispose() {
          running.dispose();
        }

        @Override
        public boolean isDisposed() {
          return running.isDisposed();
        }
      };
    }
  }

  /**
   * How long a graceful stop may take before the task is disposed (well within Spring's 30 s a
   * shutdown phase).
   */
  static final Duration STOP_WAIT = Duration.ofSeconds(5);

  private final List<Task> tasks;
  private final Duration stopWait;
  private final List<Disposable> running = new ArrayList<>();
  private boolean started;

  public BackgroundTasks(List<Task> tasks) {
    this(tasks, STOP_WAIT);
  }

  BackgroundTasks(List<Task> tasks, Duration stopWait) {
    this.tasks = List.copyOf(tasks);
    this.stopWait = stopWait;
  }

  public static BackgroundTasks of(Task... tasks) {
    return new BackgroundTasks(List.of(tasks));
  }

  @Override
  public synchronized void start() {
    started = true;
    tasks.forEach(task -> running.add(task.start()));
  }

  /** Disposes them in the order they started, at once. */
  @Override
  public synchronized void stop() {
    running.forEach(BackgroundTasks::dispose);
    running.clear();
    started = false;
  }

  /**
   * How the application stops them: the {@link Graceful} ones are asked to finish (for at most
   * {@link #STOP_WAIT}, then disposed), the others disposed; {@code callback} runs once all have
   * stopped, and only then does Spring go on to close what they use (Redis, Kafka, the database).
   */
  @Override
  public void stop(Runnable callback) {
    List<Mono<Void>> finishing = new ArrayList<>();
    synchronized (this) {
      for (Disposable task : running) {
        if (task instanceof Graceful graceful) {
          finishing.add(finish(graceful));
        } else {
          dispose(task);
        }
      }
      running.clear();
      started = false;
    }
    Mono.when(finishing).doFinally(signal -> callback.run()).subscribe();
  }

  private Mono<Void> finish(Graceful task) {
    return Mono.defer(task::stopGracefully)
        .timeout(stopWait)
        .onErrorResume(
            e -> {
              log.warn("a background task did not stop in {}: disposed", stopWait, e);
              dispose(task);
              return Mono.empty();
            });
  }

  private static void dispose(Disposable task) {
    try {
      task.dispose();
    } catch (RuntimeException e) {
      // One task that fails to stop must not leave the others running.
      log.warn("a background task failed to stop", e);
    }
  }

  @Override
  public synchronized boolean isRunning() {
    return started;
  }
}
