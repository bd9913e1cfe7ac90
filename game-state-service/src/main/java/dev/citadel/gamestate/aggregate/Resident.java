package dev.citadel.gamestate.aggregate;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * One aggregate held in memory, with a mailbox: the work given to {@link #run} executes strictly
 * one at a time, in order. State fields are only touched from inside that work.
 */
final class Resident<S> {
  /** The resident was passivated while the caller was about to use it: use a fresh one. */
  static final class Retired extends RuntimeException {
    Retired() {
      super("resident retired", null, false, false);
    }
  }

  final String id;
  S state;
  long version;
  boolean loaded;

  private final Sinks.Many<Mono<Void>> mailbox = Sinks.many().unicast().onBackpressureBuffer();
  private final AtomicInteger pending = new AtomicInteger();
  private volatile long lastUsedNanos;

  Resident(String id, S initial, long nowNanos) {
    this.id = id;
    this.state = initial;
    this.lastUsedNanos = nowNanos;
    mailbox.asFlux().concatMap(work -> work, 1).subscribe();
  }

  <T> Mono<T> run(Function<Resident<S>, Mono<T>> work, long nowNanos) {
    return Mono.create(
        sink -> {
          pending.incrementAndGet();
          lastUsedNanos = nowNanos;
          // Book-keeping first, then the answer: once a caller has its reply, the resident
          // already counts as idle again.
          Mono<Void> task =
              Mono.defer(() -> work.apply(this))
                  .materialize()
                  .doOnNext(
                      signal -> {
                        pending.decrementAndGet();
                        lastUsedNanos = Math.max(lastUsedNanos, nowNanos);
                        if (signal.isOnNext()) {
                          sink.success(signal.get());
                        } else if (signal.isOnError()) {
                          sink.error(signal.getThrowable());
                        } else {
                          sink.success();
                        }
                      })
                  .then();
          Sinks.EmitResult result;
          synchronized (this) { // unicast sinks take one emitter at a time
            result = mailbox.tryEmitNext(task);
          }
          if (result.isFailure()) {
            pending.decrementAndGet();
            sink.error(new Retired());
          }
        });
  }

  boolean idleSince(long nanos) {
    return pending.get() == 0 && lastUsedNanos <= nanos;
  }

  long lastUsedNanos() {
    return lastUsedNanos;
  }

  /** Closes the mailbox if nothing is pending; work already queued still runs. */
  synchronized boolean retireIfIdle(long idleBeforeNanos) {
    if (!idleSince(idleBeforeNanos)) {
      return false;
    }
    mailbox.tryEmitComplete();
    return true;
  }
}
