package dev.citadel.eventstore.internal;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.Appended;
import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.StoreBusy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.util.retry.Retry;

/**
 * Group commit: appends submitted while a statement is in flight wait in a queue and go together in
 * the next statement. A lone append goes at once (no timer), so latency stays low when the load is
 * low, and throughput rises with it. Each append still succeeds or conflicts on its own; an atomic
 * append to several streams ({@link #submitAll}) joins the same statement as a group, written all
 * or none. At most {@code maxQueued} appends (single or atomic) wait: past that one is refused at
 * once ({@link StoreBusy}) rather than queued behind work the database cannot finish in time.
 */
public final class GroupCommitter {
  private record Pending(List<AppendRequest> requests, MonoSink<List<Appended>> sink) {
    int events() {
      int n = 0;
      for (AppendRequest r : requests) {
        n += r.events().size();
      }
      return n;
    }
  }

  private final DatabaseClient db;
  private final int maxBatchEvents;
  private final int maxInFlight;
  private final int maxQueued;
  private final Queue<Pending> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();

  public GroupCommitter(DatabaseClient db, int maxBatchEvents, int maxInFlight, int maxQueued) {
    this.db = db;
    this.maxBatchEvents = maxBatchEvents;
    this.maxInFlight = maxInFlight;
    this.maxQueued = maxQueued;
  }

  public Mono<Appended> submit(AppendRequest request) {
    return enqueue(List.of(request)).map(appended -> appended.get(0));
  }

  /**
   * Appends to every stream of {@code requests} or to none: {@link ConcurrencyConflict} names the
   * first stream (in the given order) that was not at its expected version or held the key. Only
   * existing streams (expected version above 0) unless there is one request, and each stream once.
   */
  public Mono<List<Appended>> submitAll(List<AppendRequest> requests) {
    if (requests.isEmpty()) {
      return Mono.just(List.of());
    }
    Set<String> streams = new HashSet<>();
    for (AppendRequest r : requests) {
      if (!streams.add(r.aggregateId())) {
        return Mono.error(
            new IllegalArgumentException("two appends to " + r.aggregateId() + " in one batch"));
      }
      if (requests.size() > 1 && r.expectedVersion() == 0) {
        return Mono.error(
            new IllegalArgumentException(
                "a stream is created only by an append of its own: " + r.aggregateId()));
      }
    }
    return enqueue(List.copyOf(requests));
  }

  /** Queues the appends as one group (checked by the caller), or refuses them when full. */
  private Mono<List<Appended>> enqueue(List<AppendRequest> copy) {
    return Mono.create(
        sink -> {
          if (queued.incrementAndGet() > maxQueued) {
            queued.decrementAndGet();
            sink.error(new StoreBusy(maxQueued));
            return;
          }
          queue.add(new Pending(copy, sink));
          drain();
        });
  }

  private void drain() {
    while (!queue.isEmpty()) {
      int current = inFlight.get();
      if (current >= maxInFlight) {
        return; // a finishing batch drains again
      }
      if (!inFlight.compareAndSet(current, current + 1)) {
        continue;
      }
      List<Pending> batch = takeBatch();
      if (batch.isEmpty()) {
        inFlight.decrementAndGet();
        continue;
      }
      run(batch);
    }
  }

  /**
   * Takes queued appends up to the size limit. A batch ends before an append to a stream it already
   * holds: that one goes in a later statement (with two in flight, either may lock the stream
   * first; the expected versions decide, and the one that finds the stream moved gets a conflict).
   */
  private synchronized List<Pending> takeBatch() { // the only place that removes from the queue
    List<Pending> batch = new ArrayList<>();
    Set<String> streams = new HashSet<>();
    int events = 0;
    Pending next;
    while ((next = queue.peek()) != null) {
      int size = next.events();
      if (!batch.isEmpty() && (events + size > maxBatchEvents || holdsAny(streams, next))) {
        break;
      }
      queue.poll(); // removes `next`: nothing else takes from the queue while we hold the lock
      queued.decrementAndGet();
      batch.add(next);
      next.requests().forEach(r -> streams.add(r.aggregateId()));
      events += size;
    }
    return batch;
  }

  private static boolean holdsAny(Set<String> streams, Pending p) {
    for (AppendRequest r : p.requests()) {
      if (streams.contains(r.aggregateId())) {
        return true;
      }
    }
    return false;
  }

  private void run(List<Pending> batch) {
    List<List<AppendRequest>> groups = batch.stream().map(Pending::requests).toList();
    Mono.defer(() -> AppendStatement.executeGroups(db, groups))
        // A deadlock with another instance's batch (only possible while ownership moves) or a
        // serialization failure rolls the whole statement back: safe to run it again.
        .retryWhen(Retry.backoff(3, Duration.ofMillis(5)).filter(AppendStatement::isRetryable))
        // No connection to be had: nothing was sent, so each append is refused, not in doubt.
        .onErrorMap(StoreBusy::ifNeverSent)
        .doFinally(
            signal -> {
              inFlight.decrementAndGet();
              drain();
            })
        .subscribe(result -> complete(batch, result), error -> fail(batch, error));
  }

  private static void complete(List<Pending> batch, AppendStatement.Result result) {
    for (Pending p : batch) {
      List<Appended> appended = new ArrayList<>(p.requests().size());
      for (AppendRequest r : p.requests()) {
        if (result.written().contains(r.aggregateId())) {
          appended.add(new Appended(r.aggregateId(), r.newVersion()));
        }
      }
      if (appended.size() == p.requests().size()) {
        p.sink().success(appended);
      } else if (!appended.isEmpty()) {
        // The statement writes a group whole or not at all; this would be its defect, and the
        // caller must treat it as in doubt (look it up), never as a conflict (nothing written).
        p.sink().error(new IllegalStateException("an atomic append was written in part"));
      } else {
        AppendRequest stale = result.firstStale(p.requests()).orElse(p.requests().get(0));
        p.sink().error(new ConcurrencyConflict(stale.aggregateId(), stale.expectedVersion()));
      }
    }
  }

  private static void fail(List<Pending> batch, Throwable error) {
    batch.forEach(p -> p.sink().error(error));
  }
}
