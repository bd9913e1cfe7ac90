package dev.citadel.messaging.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

class BatchesTest {

  @Test
  void every_element_is_handled_once_in_order_one_batch_at_a_time_none_over_the_limit() {
    List<List<Integer>> batches = new CopyOnWriteArrayList<>();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger mostInFlight = new AtomicInteger();
    Batches.of(
            Flux.range(0, 10_000).publishOn(Schedulers.parallel(), 32),
            7,
            batch ->
                Mono.fromRunnable(
                        () -> {
                          mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                          batches.add(batch);
                          for (int spin = 0; spin < 2_000; spin++) {
                            Thread.onSpinWait(); // long enough for a second batch to overlap
                          }
                          inFlight.decrementAndGet();
                        })
                    .subscribeOn(Schedulers.boundedElastic())
                    .then())
        .block(Duration.ofSeconds(30));

    assertThat(batches.stream().flatMap(List::stream).toList())
        .containsExactlyElementsOf(IntStream.range(0, 10_000).boxed().toList());
    assertThat(batches).allSatisfy(b -> assertThat(b).hasSizeBetween(1, 7));
    assertThat(mostInFlight.get()).isEqualTo(1);
  }

  /**
   * Elements that arrive while a batch is handled go in the next batch even when nothing follows
   * them. Threads race: one emits, two finish batches. With reactor-core 3.8.6's {@code
   * bufferTimeout(4, 2 ms, true)} in place of {@code Batches} this failed at its 12th run: the last
   * elements stayed unhandled, long past the operator's own 2 ms timeout.
   */
  @Test
  void a_partial_batch_is_handed_over_without_waiting_for_more_elements() throws Exception {
    assertNothingLeftBehind(
        (source, handler) -> Batches.of(source, 4, handler), 2_000, Duration.ofSeconds(5));
  }

  static void assertNothingLeftBehind(
      BiFunction<Flux<Integer>, Function<List<Integer>, Mono<Void>>, Mono<Void>> batching,
      int runs,
      Duration patience)
      throws Exception {
    int elements = 50;
    for (int run = 0; run < runs; run++) {
      Sinks.Many<Integer> sink = Sinks.many().unicast().onBackpressureBuffer();
      Set<Integer> seen = ConcurrentHashMap.newKeySet();
      ConcurrentLinkedQueue<CompletableFuture<Void>> gates = new ConcurrentLinkedQueue<>();
      Disposable subscription =
          batching
              .apply(
                  sink.asFlux(),
                  batch -> {
                    seen.addAll(batch);
                    CompletableFuture<Void> gate = new CompletableFuture<>();
                    gates.add(gate);
                    return Mono.fromFuture(gate);
                  })
              .subscribe();
      // Two threads finish batches as they start (this one once all is emitted), racing the
      // emitter; waiting ends when every element is handled.
      CountDownLatch stop = new CountDownLatch(1);
      Thread finisher =
          new Thread(
              () -> {
                while (stop.getCount() > 0) {
                  CompletableFuture<Void> gate = gates.poll();
                  if (gate != null) {
                    gate.complete(null);
                  } else {
                    Thread.onSpinWait();
                  }
                }
              });
      finisher.start();
      for (int i = 0; i < elements; i++) {
        sink.tryEmitNext(i).orThrow();
      }
      long deadline = System.nanoTime() + patience.toNanos();
      while (seen.size() < elements && System.nanoTime() < deadline) {
        CompletableFuture<Void> gate = gates.poll();
        if (gate != null) {
          gate.complete(null);
        }
        Thread.onSpinWait();
      }
      boolean handled = seen.size() == elements;
      stop.countDown();
      finisher.join();
      subscription.dispose();
      assertThat(handled).as("run %d: every element handled within %s ", run, patience).isTrue();
    }
  }

  @Test
  void a_failing_batch_fails_the_whole_and_cancels_the_source() {
    AtomicBoolean sourceCancelled = new AtomicBoolean();
    List<Integer> handled = new CopyOnWriteArrayList<>();
    Mono<Void> whole =
        Batches.of(
            Flux.range(0, 100).concatWith(Flux.never()).doOnCancel(() -> sourceCancelled.set(true)),
            10,
            batch -> {
              handled.addAll(batch);
              return batch.contains(0) ? Mono.empty() : Mono.error(new IllegalStateException("no"));
            });
    assertThatThrownBy(() -> whole.block(Duration.ofSeconds(10))).hasMessageContaining("no");
    assertThat(sourceCancelled).isTrue();
    assertThat(handled).hasSizeLessThanOrEqualTo(20);
  }

  @Test
  void a_failing_source_fails_the_whole_after_what_arrived_is_handled() {
    List<Integer> handled = new CopyOnWriteArrayList<>();
    Sinks.Many<Integer> source = Sinks.many().unicast().onBackpressureBuffer();
    CompletableFuture<Void> firstBatch = new CompletableFuture<>();
    Mono<Void> whole =
        Batches.of(
            source.asFlux(),
            10,
            batch -> {
              handled.addAll(batch);
              // The first batch is still in flight when the source fails behind it.
              return batch.contains(0) ? Mono.fromFuture(firstBatch) : Mono.empty();
            });
    CompletableFuture<Void> outcome = whole.toFuture();
    source.tryEmitNext(0).orThrow();
    for (int i = 1; i < 25; i++) {
      source.tryEmitNext(i).orThrow();
    }
    source.tryEmitError(new IllegalStateException("gone")).orThrow();
    assertThat(outcome).isNotDone();
    firstBatch.complete(null);
    assertThatThrownBy(() -> outcome.get(10, TimeUnit.SECONDS)).hasMessageContaining("gone");
    assertThat(handled).containsExactlyElementsOf(IntStream.range(0, 25).boxed().toList());
  }

  @Test
  void cancelling_cancels_the_source_and_the_batch_in_flight() throws Exception {
    AtomicBoolean sourceCancelled = new AtomicBoolean();
    AtomicBoolean batchCancelled = new AtomicBoolean();
    CountDownLatch started = new CountDownLatch(1);
    Disposable subscription =
        Batches.of(
                Flux.just(1, 2, 3)
                    .concatWith(Flux.never())
                    .doOnCancel(() -> sourceCancelled.set(true)),
                10,
                batch ->
                    Mono.<Void>never()
                        .doOnSubscribe(s -> started.countDown())
                        .doOnCancel(() -> batchCancelled.set(true)))
            .subscribe();
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
    subscription.dispose();
    assertThat(sourceCancelled).isTrue();
    assertThat(batchCancelled).isTrue();
  }

  @Test
  void never_holds_more_than_four_batches_requested_and_not_handed_over() {
    AtomicLong requested = new AtomicLong();
    AtomicLong delivered = new AtomicLong();
    AtomicLong handedOver = new AtomicLong();
    AtomicLong mostAhead = new AtomicLong();
    Batches.of(
            Flux.range(0, 1_000)
                .publishOn(Schedulers.parallel(), 1)
                .doOnRequest(requested::addAndGet)
                .doOnNext(i -> delivered.incrementAndGet()),
            10,
            batch ->
                Mono.fromRunnable(
                    () -> {
                      handedOver.addAndGet(batch.size());
                      mostAhead.accumulateAndGet(requested.get() - handedOver.get(), Math::max);
                    }))
        .block(Duration.ofSeconds(10));
    assertThat(handedOver.get()).isEqualTo(1_000);
    assertThat(delivered.get()).isEqualTo(1_000);
    assertThat(mostAhead.get()).isBetween(1L, 40L);
  }
}
