package dev.citadel.gamestate.aggregate;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Group commit per key: for each key one batch runs at a time, and the requests that arrive
 * meanwhile go together in the next one. A lone request goes at once. Two requests with the same
 * {@code distinct} value never share a batch: the later one waits for the next, so it sees what the
 * first wrote. The runner answers which requests failed on their own (by their {@code distinct}
 * value); the others succeed. A runner that fails fails every request in its batch. At most {@code
 * maxWaiting} wait in a lane: past it a request is refused at once ({@link Overloaded}); a request
 * whose caller gives up while it waits is taken out and never run.
 */
public final class KeyedBatches<K, R> {
  private record Waiting<R>(R request, MonoSink<Void> sink) {}

  private static final class Lane<R> {
    private final ArrayDeque<Waiting<R>> pending = new ArrayDeque<>(); // guarded by this
    private boolean running; // guarded by this
  }

  private final BiFunction<K, List<R>, Mono<Map<Object, Throwable>>> runner;
  private final Function<R, Object> distinct;
  private final int maxBatch;
  private final int maxWaiting;
  private final String name;
  private final Map<K, Lane<R>> lanes = new ConcurrentHashMap<>();

  /** Lanes bounded by their caller (each request already waits for a bounded resource). */
  public KeyedBatches(
      BiFunction<K, List<R>, Mono<Map<Object, Throwable>>> runner,
      Function<R, Object> distinct,
      int maxBatch) {
    this(runner, distinct, maxBatch, Integer.MAX_VALUE, "batches");
  }

  /**
   * @param name what an {@link Overloaded} refusal names as the bound reached
   */
  public KeyedBatches(
      BiFunction<K, List<R>, Mono<Map<Object, Throwable>>> runner,
      Function<R, Object> distinct,
      int maxBatch,
      int maxWaiting,
      String name) {
    this.runner = runner;
    this.distinct = distinct;
    this.maxBatch = maxBatch;
    this.maxWaiting = maxWaiting;
    this.name = name;
  }

  public Mono<Void> submit(K key, R request) {
    return Mono.create(
        sink -> {
          Lane<R> lane = lanes.computeIfAbsent(key, k -> new Lane<>());
          Waiting<R> waiting = new Waiting<>(request, sink);
          boolean full;
          synchronized (lane) {
            full = lane.pending.size() >= maxWaiting;
            if (!full) {
              lane.pending.add(waiting);
              sink.onCancel(
                  () -> {
                    synchronized (lane) {
                      lane.pending.remove(waiting); // not taken yet: never run
                    }
                  });
              if (lane.running) {
                return; // the running batch starts the next one when it finishes
              }
              lane.running = true;
            }
          }
          if (full) { // answered outside the lock: an error runs the caller's error path here
            sink.error(
                new Overloaded(
                    name, maxWaiting + " already wait for " + name + " here; try again"));
            return;
          }
          next(key, lane);
        });
  }

  /**
   * Runs batches while this thread has the lane's turn: a batch that finishes during its own
   * subscribe leaves the turn here (a loop, not recursion); one that finishes later continues on
   * the thread that finishes it.
   */
  private void next(K key, Lane<R> lane) {
    while (true) {
      List<Waiting<R>> batch = take(lane);
      if (batch.isEmpty()) {
        return;
      }
      List<R> requests = batch.stream().map(Waiting::request).toList();
      AtomicReference<Map<Object, Throwable>> failed = new AtomicReference<>(Map.of());
      AtomicBoolean handedOver = new AtomicBoolean();
      Mono.defer(() -> runner.apply(key, requests))
          .subscribe(
              failed::set,
              e -> {
                try {
                  batch.forEach(w -> w.sink().error(e));
                } finally {
                  finished(key, lane, handedOver);
                }
              },
              () -> {
                try {
                  for (Waiting<R> w : batch) {
                    Throwable own = failed.get().get(distinct.apply(w.request()));
                    if (own == null) {
                      w.sink().success();
                    } else {
                      w.sink().error(own);
                    }
                  }
                } finally {
                  finished(key, lane, handedOver);
                }
              });
      if (!handedOver.compareAndSet(false, true)) {
        continue; // finished during subscribe: keep the turn here
      }
      return;
    }
  }

  private void finished(K key, Lane<R> lane, AtomicBoolean handedOver) {
    if (handedOver.compareAndSet(false, true)) {
      return; // next() is still inside subscribe and continues itself
    }
    next(key, lane);
  }

  /** The next batch, or none (and the lane's turn given up) when nothing waits. */
  private List<Waiting<R>> take(Lane<R> lane) {
    List<Waiting<R>> batch = new ArrayList<>();
    synchronized (lane) {
      Set<Object> seen = new HashSet<>();
      List<Waiting<R>> deferred = new ArrayList<>();
      while (batch.size() < maxBatch && !lane.pending.isEmpty()) {
        Waiting<R> w = lane.pending.pollFirst();
        (seen.add(distinct.apply(w.request())) ? batch : deferred).add(w);
      }
      for (int i = deferred.size() - 1; i >= 0; i--) {
        lane.pending.addFirst(deferred.get(i)); // first in line for the next batch, in order
      }
      if (batch.isEmpty()) {
        lane.running = false;
      }
    }
    return batch;
  }
}
