package dev.citadel.gamestate.aggregate;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * One aggregate held in memory, with a mailbox: the work given to {@link #run} executes strictly
 * one at a time, in order. State fields are only touched from inside that work.
 */
final class Resident<S> {
  /** The resident was passivated while the caller was about to use it: use a fresh one. */
  static final class Retired extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Retired() {
      super("resident retired", null, false, false);
    }
  }

  final String id;
  S state;
  long version;
  boolean loaded;

  /** The two-phase transaction holding this aggregate, if any (touched only from its work). */
  volatile Hold<?> hold;

  /** Held for {@code prepared} until {@code deadlineNanos}; then the hold lapses and we reload. */
  record Hold<E>(Prepared<E> prepared, long deadlineNanos) {}

  /**
   * The mailbox: tasks in order, and a count of those queued or running. Whoever raises the count
   * from 0 runs tasks until it falls back to 0; a task that completes later (after I/O) hands the
   * turn to the thread that completes it. No lock is held while a task runs: a task's completion
   * may start work on another resident, which must never wait for this one (two residents doing
   * that to each other deadlocked when the mailbox was drained under a monitor).
   */
  private final Queue<Mono<Void>> mailbox = new ConcurrentLinkedQueue<>();

  private final AtomicInteger wip = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();
  private volatile long lastUsedNanos;
  private boolean retired; // guarded by this

  Resident(String id, S initial, long nowNanos) {
    this.id = id;
    this.state = initial;
    this.lastUsedNanos = nowNanos;
  }

  <T> Mono<T> run(Function<Resident<S>, Mono<T>> work, long nowNanos) {
    return run(work, nowNanos, Integer.MAX_VALUE);
  }

  /**
   * Queues the work, unless {@code maxPending} tasks are queued or running already: then it is
   * refused at once ({@link Overloaded}), before anything is done, instead of waiting behind them.
   * Work that must never be refused (a transaction's commit or abort, a hold's lapse) passes {@code
   * Integer.MAX_VALUE}.
   */
  <T> Mono<T> run(Function<Resident<S>, Mono<T>> work, long nowNanos, int maxPending) {
    return Mono.create(
        sink -> {
          // A caller may give up (a client that timed out, a transaction aborting cancels its
          // other prepares). Work not started yet is then skipped; work already running finishes
          // (its I/O cannot be taken back) and its answer is simply not delivered.
          AtomicBoolean cancelled = new AtomicBoolean();
          sink.onCancel(() -> cancelled.set(true));
          // Book-keeping first, then the answer: once a caller has its reply, the resident
          // already counts as idle again.
          Mono<Void> task =
              Mono.defer(() -> cancelled.get() ? Mono.<T>empty() : work.apply(this))
                  .materialize()
                  .doOnNext(
                      signal -> {
                        pending.decrementAndGet();
                        lastUsedNanos = Math.max(lastUsedNanos, nowNanos);
                        if (cancelled.get()) {
                          return;
                        }
                        if (signal.isOnNext()) {
                          sink.success(signal.get());
                        } else if (signal.isOnError()) {
                          sink.error(signal.getThrowable());
                        } else {
                          sink.success();
                        }
                      })
                  .then();
          // Decided under the lock, answered after it: an error signal runs the caller's error
          // path on this thread (a transaction aborting its other players), which must never
          // wait for another resident's lock while holding this one.
          RuntimeException refused = null;
          synchronized (this) {
            if (retired) {
              refused = new Retired();
            } else if (pending.get() >= maxPending) {
              refused =
                  new Overloaded(
                      Overloaded.MAILBOX,
                      "player " + id + " has " + maxPending + " requests waiting; try again");
            } else {
              pending.incrementAndGet();
              lastUsedNanos = nowNanos;
              mailbox.add(task);
            }
          }
          if (refused != null) {
            sink.error(refused);
            return;
          }
          if (wip.getAndIncrement() == 0) {
            drain();
          }
        });
  }

  /** Runs tasks while this thread has the turn; returns when one goes asynchronous or none left. */
  private void drain() {
    while (true) {
      Mono<Void> task = mailbox.poll();
      AtomicBoolean handedOver = new AtomicBoolean();
      task.subscribe(v -> {}, e -> finished(handedOver), () -> finished(handedOver));
      if (!handedOver.compareAndSet(false, true)) {
        // finished during subscribe: keep the turn here (a loop, not recursion)
        if (wip.decrementAndGet() == 0) {
          return;
        }
        continue;
      }
      return; // still running: whoever completes it continues
    }
  }

  private void finished(AtomicBoolean handedOver) {
    if (handedOver.compareAndSet(false, true)) {
      return; // drain() is still inside subscribe and continues itself
    }
    if (wip.decrementAndGet() > 0) {
      drain();
    }
  }

  boolean idleSince(long nanos) {
    // A held aggregate is never passivated: its hold is in memory only.
    return pending.get() == 0 && lastUsedNanos <= nanos && hold == null;
  }

  long lastUsedNanos() {
    return lastUsedNanos;
  }

  /** Closes the mailbox if nothing is pending: later work gets {@link Retired}. */
  synchronized boolean retireIfIdle(long idleBeforeNanos) {
    if (!idleSince(idleBeforeNanos)) {
      return false;
    }
    retired = true;
    return true;
  }
}
