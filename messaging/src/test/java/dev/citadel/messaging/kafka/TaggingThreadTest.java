package dev.citadel.messaging.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Records are tagged with their partition's turn on the thread that received them, never on a
 * handler's ({@link ReactorKafkaConsumer#taggedWhereReceived}). The source is built as
 * reactor-kafka 1.3 builds {@code receive()}: a sink of polled batches, {@code publishOn} an
 * immediate single scheduler with a prefetch of one, {@code flatMapIterable}. Handlers ask for more
 * from other threads; without the buffer, their requests ran that chain's drain, and the tagging,
 * on their own thread.
 */
class TaggingThreadTest {

  @Test
  void records_are_tagged_only_on_the_thread_that_received_them() {
    int batches = 3_000;
    int size = 20;
    Sinks.Many<List<Integer>> polled = Sinks.many().unicast().onBackpressureBuffer();
    Scheduler pollThread = Schedulers.newSingle("poll");
    Set<String> taggedOn = ConcurrentHashMap.newKeySet();
    AtomicInteger handled = new AtomicInteger();
    Flux<Integer> received =
        polled
            .asFlux()
            .publishOn(Schedulers.single(Schedulers.immediate()), 1)
            .flatMapIterable(batch -> batch, 1);
    Disposable consuming =
        ReactorKafkaConsumer.taggedWhereReceived(
                received,
                r -> {
                  taggedOn.add(Thread.currentThread().getName());
                  return r;
                })
            .groupBy(r -> r % 8, Integer.MAX_VALUE)
            .flatMap(
                partition ->
                    partition
                        .publishOn(Schedulers.parallel(), 1)
                        .doOnNext(r -> handled.incrementAndGet()),
                Integer.MAX_VALUE)
            .subscribe();
    try {
      for (int b = 0; b < batches; b++) {
        List<Integer> batch = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
          batch.add(b * size + i);
        }
        pollThread.schedule(() -> polled.emitNext(batch, Sinks.EmitFailureHandler.FAIL_FAST));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> handled.get() == batches * size);

      assertThat(taggedOn).allMatch(name -> name.startsWith("poll-"));
    } finally {
      consuming.dispose();
      pollThread.dispose();
    }
  }
}
