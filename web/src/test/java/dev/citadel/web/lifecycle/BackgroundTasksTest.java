package dev.citadel.web.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class BackgroundTasksTest {

  @Test
  void starts_every_task_and_stops_each_in_the_order_it_started() {
    List<String> log = new ArrayList<>();
    BackgroundTasks tasks =
        BackgroundTasks.of(
            () -> {
              log.add("start a");
              return () -> log.add("stop a");
            },
            () -> {
              log.add("start b");
              return () -> log.add("stop b");
            });

    assertThat(tasks.isRunning()).isFalse();
    tasks.start();
    assertThat(tasks.isRunning()).isTrue();
    tasks.stop();
    assertThat(tasks.isRunning()).isFalse();
    assertThat(log).containsExactly("start a", "start b", "stop a", "stop b");
  }

  @Test
  void a_second_stop_does_nothing_a_restart_runs_them_again_and_a_failing_stop_stops_the_rest() {
    List<String> log = new ArrayList<>();
    BackgroundTasks tasks =
        BackgroundTasks.of(
            () -> {
              log.add("start a");
              return () -> {
                log.add("stop a");
                throw new IllegalStateException("a cannot stop");
              };
            },
            () -> {
              log.add("start b");
              return () -> log.add("stop b");
            });

    tasks.start();
    tasks.stop();
    tasks.stop();
    tasks.start();
    tasks.stop();

    assertThat(log)
        .containsExactly(
            "start a", "start b", "stop a", "stop b", "start a", "start b", "stop a", "stop b");
  }

  /** A graceful task finishes before Spring goes on to close what it uses. */
  @Test
  void a_graceful_task_is_asked_to_finish_and_the_stop_completes_only_when_it_has()
      throws Exception {
    Sinks.Empty<Void> finished = Sinks.empty();
    AtomicBoolean disposed = new AtomicBoolean();
    AtomicBoolean plainStopped = new AtomicBoolean();
    BackgroundTasks tasks =
        new BackgroundTasks(
            List.of(
                () -> graceful(finished.asMono(), disposed), () -> () -> plainStopped.set(true)),
            Duration.ofSeconds(30));
    tasks.start();
    CountDownLatch callback = new CountDownLatch(1);
    tasks.stop(callback::countDown);

    assertThat(plainStopped).isTrue();
    assertThat(tasks.isRunning()).isFalse();
    assertThat(callback.getCount()).as("still finishing").isEqualTo(1);
    finished.tryEmitEmpty();
    assertThat(callback.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(disposed).as("finished on its own").isFalse();
  }

  @Test
  void a_graceful_task_that_does_not_finish_in_time_is_disposed() throws Exception {
    AtomicBoolean disposed = new AtomicBoolean();
    BackgroundTasks tasks =
        new BackgroundTasks(
            List.of(() -> graceful(Mono.never(), disposed)), Duration.ofMillis(200));
    tasks.start();
    CountDownLatch callback = new CountDownLatch(1);
    tasks.stop(callback::countDown);

    assertThat(callback.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(disposed).isTrue();
  }

  static BackgroundTasks.Graceful graceful(Mono<Void> finishes, AtomicBoolean disposed) {
    return new BackgroundTasks.Graceful() {
      @Override
      public Mono<Void> stopGracefully() {
        return finishes;
      }

      @Override
      public void dispose() {
        disposed.set(true);
      }
    };
  }
}
