package dev.citadel.infra.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The launcher's supervision, with real OS processes that die. */
class SupervisorTest {

  /** A "service": a real {@code sleep} process; healthy as soon as it runs. */
  record Sleeper(String name, Process process, List<Process> all) implements Supervisor.Supervised {
    static Sleeper start(String name, List<Process> all) {
      try {
        Process p = new ProcessBuilder("sleep", "600").start();
        all.add(p);
        return new Sleeper(name, p, all);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    public CompletableFuture<Integer> exited() {
      return process.onExit().thenApply(Process::exitValue);
    }

    @Override
    public Supervisor.Supervised restart() {
      return start(name, all);
    }

    @Override
    public void awaitHealthy() {
      if (!process.isAlive()) {
        throw new IllegalStateException(name + " died while starting");
      }
    }

    @Override
    public String logName() {
      return name + ".log";
    }
  }

  @Test
  void back_off_doubles_from_the_first_wait_up_to_the_cap() {
    Duration first = Duration.ofSeconds(1);
    Duration max = Duration.ofSeconds(30);
    assertThat(Supervisor.backoff(1, first, max)).isEqualTo(Duration.ofSeconds(1));
    assertThat(Supervisor.backoff(2, first, max)).isEqualTo(Duration.ofSeconds(2));
    assertThat(Supervisor.backoff(5, first, max)).isEqualTo(Duration.ofSeconds(16));
    assertThat(Supervisor.backoff(6, first, max)).isEqualTo(max);
    assertThat(Supervisor.backoff(1_000, first, max)).isEqualTo(max);
    assertThat(Supervisor.backoff(0, first, max)).isEqualTo(first);
  }

  @Test
  void a_killed_service_is_reported_and_restarted_until_the_supervisor_stops() throws Exception {
    List<Process> all = new CopyOnWriteArrayList<>();
    List<String> said = new CopyOnWriteArrayList<>();
    Supervisor supervisor =
        new Supervisor(said::add, Duration.ofMillis(50), Duration.ofMillis(400));
    try {
      Sleeper a = Sleeper.start("game-state-a", all);
      Sleeper b = Sleeper.start("match", all);
      supervisor.watch(a);
      supervisor.watch(b);

      a.process().destroyForcibly(); // SIGKILL, as a crash
      await().atMost(Duration.ofSeconds(20)).until(() -> supervisor.restarts() == 1);
      Sleeper second = (Sleeper) supervisor.current().get(0);
      assertThat(second.process().pid()).isNotEqualTo(a.process().pid());
      await().atMost(Duration.ofSeconds(20)).until(() -> said.contains("   game-state-a is back"));
      assertThat(said.get(0))
          .startsWith("!! game-state-a exited with code 137")
          .contains("(log game-state-a.log)");
      assertThat(b.process().isAlive()).as("the other service is left alone").isTrue();

      // It keeps dying: each restart waits longer (50 ms, then 100 ms).
      second.process().destroyForcibly();
      await().atMost(Duration.ofSeconds(20)).until(() -> supervisor.restarts() == 2);
      assertThat(said).anyMatch(line -> line.contains("restarting in 100 ms (attempt 2)"));

      List<Supervisor.Supervised> left = supervisor.stop();
      assertThat(left).hasSize(2);
      Sleeper third = (Sleeper) left.get(0);
      third.process().destroyForcibly().waitFor();
      b.process().destroyForcibly().waitFor();
      // Stopped: a death is no longer a reason to start anything.
      await()
          .during(Duration.ofMillis(600))
          .atMost(Duration.ofSeconds(5))
          .until(() -> supervisor.restarts() == 2);
      assertThat(all).hasSize(4).noneMatch(Process::isAlive);
    } finally {
      supervisor.stop();
      all.forEach(Process::destroyForcibly);
    }
  }
}
