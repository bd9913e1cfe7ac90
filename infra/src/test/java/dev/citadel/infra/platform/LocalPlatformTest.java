package dev.citadel.infra.platform;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.FreePorts;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The launcher as a user runs it: a separate JVM, stopped with a signal. */
class LocalPlatformTest {

  @Test
  void starts_the_infrastructure_and_leaves_nothing_behind_on_sigterm(@TempDir Path root)
      throws Exception {
    String java = ProcessHandle.current().info().command().orElseThrow();
    Process launcher =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                "-Dcitadel.root=" + root,
                LocalPlatform.class.getName(),
                "--free-ports")
            .redirectErrorStream(true)
            .start();
    List<String> output = new ArrayList<>();
    try {
      CompletableFuture<Void> eof = new CompletableFuture<>();
      CompletableFuture<Boolean> ready = readUntil(launcher, "Press Ctrl-C to stop.", output, eof);
      assertThat(ready.get(120, TimeUnit.SECONDS)).as("launcher output: %s", output).isTrue();
      assertThat(String.join("\n", output))
          .contains("PostgreSQL  jdbc:postgresql://127.0.0.1:")
          .contains("Redis       redis://127.0.0.1:")
          .contains("Kafka       ")
          .contains("CITADEL_POSTGRES_URL=postgresql://127.0.0.1:");
      List<ProcessHandle> children = launcher.descendants().toList();
      assertThat(children).as("postgres and redis-server processes").isNotEmpty();
      assertThat(Files.isDirectory(root.resolve(".platform"))).isTrue();
      assertThat(root.resolve(".platform").resolve(LocalPlatform.ENVIRONMENT_FILE)).exists();

      List<Integer> ports = portsIn(output);
      assertThat(ports).hasSize(3).allMatch(FreePorts::inUse);

      // SIGTERM, as Ctrl-C would: the shutdown hook stops everything. (Process.destroy() would
      // also close our end of the launcher's stdout, and we want to read its last words.)
      ProcessHandle.of(launcher.pid()).orElseThrow().destroy();

      assertThat(launcher.waitFor(60, TimeUnit.SECONDS)).isTrue();
      for (ProcessHandle child : children) {
        child.onExit().get(30, TimeUnit.SECONDS);
        assertThat(child.isAlive()).as("child %s still running", child.info()).isFalse();
      }
      // Logs survive a stop (only --clean removes them); the running platform's file goes.
      assertThat(root.resolve(".platform")).isDirectory();
      assertThat(root.resolve(".platform").resolve(LocalPlatform.ENVIRONMENT_FILE)).doesNotExist();
      assertThat(ports).as("PostgreSQL, Redis and Kafka ports closed").noneMatch(FreePorts::inUse);
      eof.get(30, TimeUnit.SECONDS);
      assertThat(String.join("\n", output)).contains("Logs kept in").contains("Stopped.");
    } finally {
      launcher.destroyForcibly();
    }
  }

  /** The ports of PostgreSQL, Redis and Kafka, from the launcher's summary lines. */
  private static List<Integer> portsIn(List<String> output) {
    Pattern port = Pattern.compile("^  (PostgreSQL|Redis|Kafka) +\\S*:(\\d+)");
    synchronized (output) {
      return output.stream()
          .map(port::matcher)
          .filter(Matcher::find)
          .map(m -> Integer.parseInt(m.group(2)))
          .toList();
    }
  }

  /** Reads the launcher's output on another thread; completes true when {@code line} appears. */
  private static CompletableFuture<Boolean> readUntil(
      Process process, String line, List<String> sink, CompletableFuture<Void> eof) {
    CompletableFuture<Boolean> seen = new CompletableFuture<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader in =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String next;
                while ((next = in.readLine()) != null) {
                  synchronized (sink) {
                    sink.add(next);
                  }
                  if (next.contains(line)) {
                    seen.complete(true);
                  }
                }
              } catch (java.io.IOException e) {
                seen.completeExceptionally(e);
              }
              seen.complete(false);
              eof.complete(null);
            },
            "launcher-output");
    reader.setDaemon(true);
    reader.start();
    return seen;
  }

  @Test
  void finds_built_service_jars_and_ignores_unbuilt_modules(@TempDir Path root) throws Exception {
    Path target = Files.createDirectories(root.resolve("svc/target"));
    Files.createFile(target.resolve("svc-0.1.0-SNAPSHOT-sources.jar"));
    Files.createFile(target.resolve("svc-0.1.0-SNAPSHOT.jar")); // the plain library jar
    assertThat(ServiceLaunch.jarOf(root, "svc")).isEmpty();
    Files.createFile(target.resolve("svc-0.1.0-SNAPSHOT-exec.jar"));
    assertThat(ServiceLaunch.jarOf(root, "svc"))
        .contains(target.resolve("svc-0.1.0-SNAPSHOT-exec.jar"));
    assertThat(ServiceLaunch.jarOf(root, "missing")).isEmpty();
  }
}
