package dev.citadel.messaging.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

class ConsumerRestartsTest {
  final AtomicLong now = new AtomicLong();
  final ConsumerRestarts restarts = new ConsumerRestarts("g", now::get, () -> 0.5); // no spread

  @Test
  void failures_in_a_row_double_the_wait_up_to_ten_seconds() {
    assertThat(waitsOfFailuresInARow(7))
        .containsExactly(500L, 1_000L, 2_000L, 4_000L, 8_000L, 10_000L, 10_000L);
  }

  @Test
  void a_run_that_lasted_a_minute_starts_the_back_off_again() {
    waitsOfFailuresInARow(6);
    restarts.started();
    now.addAndGet(Duration.ofSeconds(60).toNanos());
    assertThat(restarts.failed()).isEqualTo(Duration.ofMillis(500));
    restarts.started();
    assertThat(restarts.failed()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void a_run_shorter_than_a_minute_counts_as_in_a_row() {
    waitsOfFailuresInARow(3);
    restarts.started();
    now.addAndGet(Duration.ofSeconds(59).toNanos());
    assertThat(restarts.failed()).isEqualTo(Duration.ofSeconds(4));
  }

  @Test
  void each_wait_is_spread_by_up_to_half_either_way() {
    assertThat(ConsumerRestarts.spread(Duration.ofSeconds(2), 0.0))
        .isEqualTo(Duration.ofSeconds(1));
    assertThat(ConsumerRestarts.spread(Duration.ofSeconds(2), 0.5))
        .isEqualTo(Duration.ofSeconds(2));
    assertThat(ConsumerRestarts.spread(Duration.ofSeconds(2), 0.99))
        .isEqualTo(Duration.ofMillis(2_980));
    // Within 500 ms and 10 s, as before.
    assertThat(ConsumerRestarts.spread(Duration.ofMillis(500), 0.0))
        .isEqualTo(Duration.ofMillis(500));
    assertThat(ConsumerRestarts.spread(Duration.ofSeconds(10), 0.99))
        .isEqualTo(Duration.ofSeconds(10));
  }

  @Test
  void the_wait_never_overflows() {
    assertThat(ConsumerRestarts.wait(1_000)).isEqualTo(ConsumerRestarts.MAX);
  }

  @Test
  void the_retry_subscribes_again_after_each_wait() {
    AtomicInteger runs = new AtomicInteger();
    StepVerifier.withVirtualTime(
            () ->
                Flux.defer(
                        () -> {
                          restarts.started();
                          return runs.incrementAndGet() < 3
                              ? Flux.<Integer>error(new IllegalStateException("down"))
                              : Flux.just(runs.get());
                        })
                    .retryWhen(restarts.retry()))
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(1_499))
        .thenAwait(Duration.ofMillis(1))
        .expectNext(3)
        .verifyComplete();
  }

  private long[] waitsOfFailuresInARow(int n) {
    long[] waits = new long[n];
    for (int i = 0; i < n; i++) {
      restarts.started();
      now.addAndGet(Duration.ofMillis(10).toNanos());
      waits[i] = restarts.failed().toMillis();
    }
    return waits;
  }
}
