package dev.citadel.web.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

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
}
