package dev.citadel.loadtest.http;

import dev.citadel.loadtest.report.HttpResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs {@link FullPathSimulation} in its own JVM (Gatling owns its logging and exits the process)
 * and reads the per-request figures back from its report.
 */
public final class GatlingRun {
  private GatlingRun() {}

  /**
   * @param settings the simulation's system properties ({@code citadel.*})
   * @param resultsDir where Gatling writes its run folder
   */
  public static HttpResult run(
      int players, Map<String, String> settings, Path resultsDir, long timeoutSeconds)
      throws IOException, InterruptedException {
    Files.createDirectories(resultsDir);
    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElse("java"));
    command.add("-Xmx1g");
    // Gatling's stats writer reads String internals.
    command.add("--add-opens=java.base/java.lang=ALL-UNNAMED");
    // Nothing leaves the machine: analytics and the warm-up call are off in gatling.conf; the
    // version check (an https call to Maven Central before every run) goes to a closed local
    // port and fails at once. Gatling's own HTTP client ignores these properties.
    command.add("-Dhttps.proxyHost=127.0.0.1");
    command.add("-Dhttps.proxyPort=9");
    command.add("-Djava.util.prefs.userRoot=" + resultsDir.toAbsolutePath().resolve(".prefs"));
    command.add("-Dlogback.configurationFile=logback-loadtest.xml");
    settings.forEach((k, v) -> command.add("-D" + k + "=" + v));
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add("io.gatling.app.Gatling");
    command.addAll(
        List.of(
            "-s",
            FullPathSimulation.class.getName(),
            "-rf",
            resultsDir.toAbsolutePath().toString(),
            "-rd",
            players + " players through the gateway",
            "-l",
            "citadel-loadtest"));
    Process gatling = new ProcessBuilder(command).inheritIO().start();
    if (!gatling.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      gatling.destroyForcibly();
      throw new IllegalStateException("Gatling did not finish in " + timeoutSeconds + " s");
    }
    Path runDir = newestRun(resultsDir);
    return new HttpResult(
        players,
        gatling.exitValue() == 0,
        GatlingReport.read(Files.readString(runDir.resolve("index.html"))),
        runDir.toString());
  }

  private static Path newestRun(Path resultsDir) throws IOException {
    try (Stream<Path> runs = Files.list(resultsDir)) {
      return runs.filter(p -> Files.exists(p.resolve("index.html")))
          .max(Comparator.comparing(p -> p.toFile().lastModified()))
          .orElseThrow(() -> new IllegalStateException("Gatling wrote no report in " + resultsDir));
    }
  }
}
