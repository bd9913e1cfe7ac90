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
 * low, and throughput rises with it. Each append still succeeds or conflicts on its own. At most
 * {@code maxQueued} appends wait: past that an append is refused at once ({@link StoreBusy}) rather
 * than queued behind work the database cannot finish in time.
 */
public final class GroupCommitter {
  private record Pending(AppendRequest request, MonoSink<Appended> sink) {}

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
    return Mono.create(
        sink -> {
          if (queued.incrementAndGet() > maxQueued) {
            queued.decrementAndGet();
            sink.error(new StoreBusy(maxQueued));
            return;
          }
          queue.add(new Pending(request, sink));
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
   * Takes queued appends up to the size limit. A batch ends before a second append to a stream it
   * already holds: that one goes in a later statement, whose row lock on the stream then waits for
   * this one, so the two are decided in order.
   */
  private synchronized List<Pending> takeBatch() { // the only place that removes from the queue
    List<Pending> batch = new ArrayList<>();
    Set<String> streams = new HashSet<>();
    int events = 0;
    Pending next;
    while ((next = queue.peek()) != null) {
      int size = next.request().events().size();
      if (!batch.isEmpty()
          && (events + size > maxBatchEvents || streams.contains(next.request().aggregateId()))) {
        break;
      }
      queue.poll(); // removes `next`: nothing else takes from the queue while we hold the lock
      queued.decrementAndGet();
      batch.add(next);
      streams.add(next.request().aggregateId());
      events += size;
    }
    return batch;
  }

  private void run(List<Pending> batch) {
    List<AppendRequest> requests = batch.stream().map(Pending::request).toList();
    Mono.defer(() -> AppendStatement.execute(db, requests))
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
        .subscribe(accepted -> complete(batch, accepted), error -> fail(batch, error));
  }

  private static void complete(List<Pending> batch, Set<String> accepted) {
    for (Pending p : batch) {
      AppendRequest r = p.request();
      if (accepted.contains(r.aggregateId())) {
        p.sink().success(new Appended(r.aggregateId(), r.newVersion()));
      } else {
        p.sink().error(new ConcurrencyConflict(r.aggregateId(), r.expectedVersion()));
      }
    }
  }

  private static void fail(List<Pending> batch, Throwable error) {
    batch.forEach(p -> p.sink().error(error));
  }
}
