package dev.citadel.gamestate.rooms;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Group commit per key: for each key one batch runs at a time, and the requests that arrive
 * meanwhile go together in the next one. A lone request goes at once. Two requests with the same
 * {@code distinct} value never share a batch: the later one waits for the next, so it sees what the
 * first wrote. A batch succeeds or fails as a whole, for every request in it.
 */
final class KeyedBatches<K, R> {
  private record Waiting<R>(R request, MonoSink<Void> sink) {}

  private static final class Lane<R> {
    private List<Waiting<R>> pending = new ArrayList<>(); // guarded by this
    private boolean running; // guarded by this
  }

  private final BiFunction<K, List<R>, Mono<Void>> runner;
  private final Function<R, Object> distinct;
  private final int maxBatch;
  private final Map<K, Lane<R>> lanes = new ConcurrentHashMap<>();

  KeyedBatches(
      BiFunction<K, List<R>, Mono<Void>> runner, Function<R, Object> distinct, int maxBatch) {
    this.runner = runner;
    this.distinct = distinct;
    this.maxBatch = maxBatch;
  }

  Mono<Void> submit(K key, R request) {
    return Mono.create(
        sink -> {
          Lane<R> lane = lanes.computeIfAbsent(key, k -> new Lane<>());
          synchronized (lane) {
            lane.pending.add(new Waiting<>(request, sink));
            if (lane.running) {
              return; // the running batch starts the next one when it finishes
            }
            lane.running = true;
          }
          next(key, lane);
        });
  }

  private void next(K key, Lane<R> lane) {
    List<Waiting<R>> batch = new ArrayList<>();
    synchronized (lane) {
      Set<Object> seen = new HashSet<>();
      List<Waiting<R>> later = new ArrayList<>();
      for (Waiting<R> w : lane.pending) {
        if (batch.size() < maxBatch && seen.add(distinct.apply(w.request()))) {
          batch.add(w);
        } else {
          later.add(w);
        }
      }
      lane.pending = later;
      if (batch.isEmpty()) {
        lane.running = false;
        return;
      }
    }
    List<R> requests = batch.stream().map(Waiting::request).toList();
    Mono.defer(() -> runner.apply(key, requests))
        .subscribe(
            v -> {},
            e -> {
              batch.forEach(w -> w.sink().error(e));
              next(key, lane);
            },
            () -> {
              batch.forEach(w -> w.sink().success());
              next(key, lane);
            });
  }
}
