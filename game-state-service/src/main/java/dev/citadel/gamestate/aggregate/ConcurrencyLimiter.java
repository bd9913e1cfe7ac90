package dev.citadel.gamestate.aggregate;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/** Lets at most N wrapped {@code Mono}s run at once; the others wait in order, without blocking. */
final class ConcurrencyLimiter {
  private final int limit;
  private final AtomicInteger running = new AtomicInteger();
  private final Queue<Runnable> waiting = new ConcurrentLinkedQueue<>();

  ConcurrencyLimiter(int limit) {
    this.limit = limit;
  }

  <T> Mono<T> limit(Mono<T> work) {
    return Mono.create(
        sink -> {
          waiting.add(
              () ->
                  work.doFinally(s -> release())
                      .subscribe(sink::success, sink::error, sink::success));
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
          next.run();
        }
      }
    }
  }
}
