package dev.citadel.loadtest.http;

import dev.citadel.loadtest.report.HttpResult;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
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
      int players,
      int warmUpPlayers,
      Map<String, String> settings,
      Path resultsDir,
      long timeoutSeconds)
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
    Path outcomeFile = resultsDir.toAbsolutePath().resolve("outcome.properties");
    Files.deleteIfExists(outcomeFile);
    settings.forEach((k, v) -> command.add("-D" + k + "=" + v));
    command.add("-Dcitadel.outcome-file=" + outcomeFile);
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
    Properties outcome = new Properties();
    if (Files.exists(outcomeFile)) {
      try (var in = Files.newBufferedReader(outcomeFile)) {
        outcome.load(in);
      }
    }
    List<HttpResult.RequestStats> requests =
        refusals(
            GatlingReport.read(
                Files.readString(runDir.resolve("index.html")), id -> page(runDir, id)),
            outcome);
    long finished = Long.parseLong(outcome.getProperty("finished", "0"));
    return new HttpResult(
        players,
        warmUpPlayers,
        finished,
        gatling.exitValue() == 0 && passed(players + warmUpPlayers, finished, requests),
        requests,
        runDir.toString());
  }

  /** Each request with the refusals the simulation counted for it. */
  static List<HttpResult.RequestStats> refusals(
      List<HttpResult.RequestStats> requests, Properties outcome) {
    return requests.stream()
        .map(r -> r.withRefused(Long.parseLong(outcome.getProperty("refused." + r.name(), "0"))))
        .toList();
  }

  /**
   * Every player (warm-up included) went the whole path, and every KO was a refusal that was sent
   * again.
   */
  static boolean passed(int players, long finished, List<HttpResult.RequestStats> requests) {
    return finished == players && requests.stream().allMatch(r -> r.failed() == 0);
  }

  private static String page(Path runDir, String id) {
    Path page = runDir.resolve(id + ".html");
    try {
      return Files.exists(page) ? Files.readString(page) : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path newestRun(Path resultsDir) throws IOException {
    try (Stream<Path> runs = Files.list(resultsDir)) {
      return runs.filter(p -> Files.exists(p.resolve("index.html")))
          .max(Comparator.comparing(p -> p.toFile().lastModified()))
          .orElseThrow(() -> new IllegalStateException("Gatling wrote no report in " + resultsDir));
    }
  }
}
