package dev.citadel.web.lifecycle;

import java.util.ArrayList;
import java.util.List;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;

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

  private final List<Task> tasks;
  private final List<Disposable> running = new ArrayList<>();
  private boolean started;

  public BackgroundTasks(List<Task> tasks) {
    this.tasks = List.copyOf(tasks);
  }

  public static BackgroundTasks of(Task... tasks) {
    return new BackgroundTasks(List.of(tasks));
  }

  @Override
  public synchronized void start() {
    started = true;
    tasks.forEach(task -> running.add(task.start()));
  }

  /** Disposes them in the order they started. */
  @Override
  public synchronized void stop() {
    for (Disposable task : running) {
      try {
        task.dispose();
      } catch (RuntimeException e) {
        // One task that fails to stop must not leave the others running.
        log.warn("a background task failed to stop", e);
      }
    }
    running.clear();
    started = false;
  }

  @Override
  public synchronized boolean isRunning() {
    return started;
  }
}
