package dev.citadel.gamestate.aggregate;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/**
 * Lets at most N wrapped {@code Mono}s run at once; the others wait in order, without blocking, up
 * to {@code maxWaiting} of them: past that, work is refused at once ({@link Overloaded}). Work
 * whose caller gave up while it waited is skipped.
 */
final class ConcurrencyLimiter {
  private final int limit;
  private final int maxWaiting;
  private final AtomicInteger running = new AtomicInteger();
  private final AtomicInteger waitingCount = new AtomicInteger();
  private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

  ConcurrencyLimiter(int limit, int maxWaiting) {
    this.limit = limit;
    this.maxWaiting = maxWaiting;
  }

  <T> Mono<T> limit(Mono<T> work) {
    return Mono.create(
        sink -> {
          if (waitingCount.incrementAndGet() > maxWaiting) {
            waitingCount.decrementAndGet();
            sink.error(
                new Overloaded("recoveries", maxWaiting + " player loads waiting; try again"));
            return;
          }
          AtomicBoolean cancelled = new AtomicBoolean();
          sink.onCancel(() -> cancelled.set(true));
          waiting.add(
              () -> {
                if (cancelled.get()) {
                  running.decrementAndGet(); // startWaiting's loop goes on to the next
                  return;
                }
                work.doFinally(s -> release()).subscribe(sink::success, sink::error, sink::success);
              });
          startWaiting();
        });
  }

  private void release() {
    running.decrementAndGet();
    startWaiting();
  }

  private void startWaiting() {
    while (!waiting.isEmpty()) {
      int now = running.get();
      if (now >= limit) {
        return;
      }
      if (running.compareAndSet(now, now + 1)) {
        Runnable next = waiting.poll();
        if (next == null) {
          running.decrementAndGet();
        } else {
          waitingCount.decrementAndGet();
          next.run();
        }
      }
    }
  }
}
