package dev.citadel.messaging.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Hands a flux to a handler in batches, one batch at a time: each batch is whatever arrived while
 * the previous one was handled, at most {@code maxBatch}; a lone element goes at once. There is no
 * timer. Arrivals and finished batches go through one drain loop, so no wake-up can be lost.
 *
 * <p>Replaces reactor-core 3.8.6's {@code bufferTimeout(max, linger, true)}, which can keep a
 * partial batch (elements that came in while the previous batch was handled) until enough further
 * elements arrive to fill it: a partition's last records then wait for the next traffic, for good
 * when there is none ({@code BatchesTest} shows it).
 *
 * <p>The returned {@code Mono} completes when the source has completed and its last batch is
 * handled; it fails with the first handler or source error (the source is then cancelled);
 * cancelling it cancels the source and the batch in flight.
 */
final class Batches<T> implements CoreSubscriber<T> {
  private final int maxBatch;
  private final int prefetch;
  private final Function<List<T>, Mono<Void>> handler;
  private final MonoSink<Void> result;
  private final Queue<T> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger wip = new AtomicInteger();
  private volatile Subscription upstream;
  private volatile boolean busy;
  private volatile boolean sourceDone;
  private volatile Throwable sourceError;
  private volatile Throwable handlerError;
  private volatile boolean cancelled;
  private volatile Disposable inFlight;
  private int taken; // since the last request upstream; drain loop only

  private Batches(int maxBatch, Function<List<T>, Mono<Void>> handler, MonoSink<Void> result) {
    this.maxBatch = maxBatch;
    this.prefetch = 4 * maxBatch;
    this.handler = handler;
    this.result = result;
  }

  static <T> Mono<Void> of(Flux<T> source, int maxBatch, Function<List<T>, Mono<Void>> handler) {
    if (maxBatch < 1) {
      throw new IllegalArgumentException("maxBatch must be positive");
    }
    return Mono.create(
        sink -> {
          Batches<T> batches = new Batches<>(maxBatch, handler, sink);
          sink.onDispose(batches::cancel);
          source.subscribe(batches);
        });
  }

  @Override
  public void onSubscribe(Subscription s) {
    upstream = s;
    if (cancelled) {
      s.cancel();
      return;
    }
    s.request(prefetch);
  }

  @Override
  public void onNext(T t) {
    queue.offer(t);
    drain();
  }

  @Override
  public void onError(Throwable t) {
    sourceError = t;
    sourceDone = true;
    drain();
  }

  @Override
  public void onComplete() {
    sourceDone = true;
    drain();
  }

  private void cancel() {
    cancelled = true;
    Subscription s = upstream;
    if (s != null) {
      s.cancel();
    }
    Disposable batch = inFlight;
    if (batch != null) {
      batch.dispose();
    }
    drain();
  }

  private void drain() {
    if (wip.getAndIncrement() != 0) {
      return;
    }
    int missed = 1;
    do {
      if (cancelled) {
        queue.clear();
        // A batch that started while cancel() ran (it read the previous one) is stopped here:
        // cancel() always drains after setting the flag, so this pass follows the assignment.
        Disposable batch = inFlight;
        if (batch != null) {
          batch.dispose();
        }
      } else if (!busy) {
        step();
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }

  /** With no batch in flight: fail, start the next batch, or finish. */
  private void step() {
    Throwable failed = handlerError;
    if (failed != null) {
      cancelled = true;
      queue.clear();
      result.error(failed); // first: the consumer restarts from the last commit
      upstream.cancel();
      return;
    }
    List<T> batch = new ArrayList<>(Math.min(queue.size(), maxBatch));
    T next;
    while (batch.size() < maxBatch && (next = queue.poll()) != null) {
      batch.add(next);
    }
    if (!batch.isEmpty()) {
      requestMore(batch.size());
      busy = true;
      inFlight =
          Mono.defer(() -> handler.apply(batch))
              .subscribe(null, this::batchFailed, this::batchDone);
      return;
    }
    if (sourceDone) {
      cancelled = true;
      Throwable error = sourceError;
      if (error != null) {
        result.error(error);
      } else {
        result.success();
      }
    }
  }

  /** Keeps at most {@code prefetch} elements requested and not yet taken into a batch. */
  private void requestMore(int n) {
    taken += n;
    if (taken >= prefetch / 2 && !sourceDone) {
      int request = taken;
      taken = 0;
      upstream.request(request);
    }
  }

  private void batchDone() {
    busy = false;
    drain();
  }

  private void batchFailed(Throwable error) {
    handlerError = error;
    busy = false;
    drain();
  }
}
