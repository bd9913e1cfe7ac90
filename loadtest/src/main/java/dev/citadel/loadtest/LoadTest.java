package dev.citadel.loadtest;

import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.platform.LocalPlatform;
import dev.citadel.loadtest.bulk.BulkScenario;
import dev.citadel.loadtest.bulk.Roster;
import dev.citadel.loadtest.bulk.ServiceToken;
import dev.citadel.loadtest.http.GatlingRun;
import dev.citadel.loadtest.observe.MatchObserver;
import dev.citadel.loadtest.observe.MetricsSampler;
import dev.citadel.loadtest.report.BulkResult;
import dev.citadel.loadtest.report.HttpResult;
import dev.citadel.loadtest.report.Report;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The launch-day rehearsal, one command: starts the local platform (or attaches to a running one),
 * queues N players in bulk and follows them to their rooms, counting every stage, runs the full
 * path for a number of virtual players through the gateway with Gatling, and writes a report.
 *
 * <p>Options: {@link Settings}.
 */
public final class LoadTest {
  static final String MATCH = "http://127.0.0.1:8082";
  static final String MEMBER = "http://127.0.0.1:8081";
  static final String GATEWAY = "http://127.0.0.1:8080";

  /** Metrics: each service's management port (its port + 1000). */
  static final String MATCH_METRICS = "http://127.0.0.1:9082";

  static final List<String> GAME_STATE_METRICS =
      List.of("http://127.0.0.1:9083", "http://127.0.0.1:9084");

  static final String SECRET_VARIABLE = "CITADEL_CLIENT_SECRET_LOADTEST";
  static final int PLAYERS_PER_MATCH = 10;

  /** What a run produced. */
  record Outcome(BulkResult warmUp, BulkResult bulk, HttpResult http, String markdown) {}

  public static void main(String[] args) throws Exception {
    Clock clock = Clock.systemDefaultZone();
    Settings settings = Settings.parse(List.of(args), clock);
    Outcome outcome = run(settings, clock, System.out);
    boolean ok =
        Stream.of(outcome.warmUp(), outcome.bulk())
                .allMatch(b -> b == null || (b.lost() == 0 && b.duplicated() == 0))
            && (outcome.http() == null || outcome.http().passed());
    System.exit(ok ? 0 : 1);
  }

  static Outcome run(Settings settings, Clock clock, PrintStream out) throws Exception {
    LocalPlatform platform = null;
    String kafka;
    String secret;
    if (settings.attach()) {
      kafka = System.getenv(InfraSettings.KAFKA_BOOTSTRAP_SERVERS);
      secret = System.getenv(SECRET_VARIABLE);
      if (kafka == null || secret == null) {
        throw new IllegalArgumentException(
            "--attach needs "
                + InfraSettings.KAFKA_BOOTSTRAP_SERVERS
                + " and "
                + SECRET_VARIABLE
                + " (run-local.sh --loadtest prints them)");
      }
    } else {
      out.println("Starting the local platform (load-test profile) ...");
      platform = LocalPlatform.at(Path.of(System.getProperty("citadel.root", ".")));
      LocalPlatform started = platform;
      Runtime.getRuntime().addShutdownHook(new Thread(started::stop, "loadtest-platform-stop"));
      platform.start(new LocalPlatform.Options(Infrastructure.Ports.FREE, true, true));
      kafka = platform.environment().get(InfraSettings.KAFKA_BOOTSTRAP_SERVERS);
      secret = platform.clientSecret("loadtest");
    }
    try {
      return runAgainst(settings, kafka, secret, clock, out);
    } finally {
      if (platform != null) {
        platform.copyLogs(settings.out().resolve("logs"));
        platform.stop();
      }
    }
  }

  /** Runs the scenarios against a platform that is up (services on their fixed ports). */
  static Outcome runAgainst(
      Settings settings, String kafka, String secret, Clock clock, PrintStream out)
      throws Exception {
    String run = "lt" + Long.toString(clock.millis() % 2_176_782_336L, 36);
    ServiceToken token = new ServiceToken(MEMBER, "loadtest", secret, "match-service", clock);
    // A round first: JVMs that have not run the path spend about half their CPU in the JIT
    // compilers on this 2-core machine (docs/loadtest.md); the figure is the round after it.
    BulkResult warmUp = null;
    if (settings.players() > 0 && settings.bulkWarmUpPlayers() > 0) {
      out.printf("%nWarm-up round (not the figure):");
      warmUp = bulk(settings, settings.bulkWarmUpPlayers(), run + "w", kafka, token, clock, out);
    }
    BulkResult bulk;
    if (warmUp != null && (warmUp.lost() != 0 || warmUp.duplicated() != 0)) {
      // Its players may still be queued: a measured round now would match them with its own and
      // count them wrongly. The warm-up's result is the report (and fails the run).
      out.printf("%nThe warm-up round lost players: no measured round.%n");
      bulk = warmUp;
      warmUp = null;
    } else {
      bulk =
          settings.players() > 0
              ? bulk(settings, settings.players(), run, kafka, token, clock, out)
              : null;
    }
    HttpResult http = null;
    if (settings.httpPlayers() > 0) {
      out.printf(
          "%nFull path: %,d virtual players through the gateway (Gatling) ...%n",
          settings.httpPlayers());
      http =
          GatlingRun.run(
              settings.httpPlayers(),
              settings.warmUpPlayers(),
              Map.of(
                  "citadel.gateway",
                  GATEWAY,
                  "citadel.players",
                  Integer.toString(settings.httpPlayers()),
                  "citadel.ramp-seconds",
                  Integer.toString(settings.rampSeconds()),
                  "citadel.warm-up-players",
                  Integer.toString(settings.warmUpPlayers()),
                  "citadel.queue",
                  settings.httpQueue(),
                  "citadel.run",
                  run),
              settings.out().resolve("gatling"),
              // The ramp, the longest wait for a room, and a margin.
              settings.warmUpPlayers() / 5 + settings.rampSeconds() + 2 * 120 + 600);
    }
    String md = Report.write(settings.out(), "Citadel load test " + run, warmUp, bulk, http);
    out.println();
    out.println(md);
    out.println("Report: " + settings.out().resolve("report.md").toAbsolutePath());
    return new Outcome(warmUp, bulk, http, md);
  }

  private static BulkResult bulk(
      Settings s,
      int count,
      String run,
      String kafka,
      ServiceToken token,
      Clock clock,
      PrintStream out)
      throws Exception {
    out.printf("%nBulk path: %,d players into queue '%s' ...%n", count, s.bulkQueue());
    List<Roster.Player> players = Roster.generate(run, count, 100);
    List<long[]> enqueueEvents = Collections.synchronizedList(new ArrayList<>());
    try (MatchObserver observer =
            MatchObserver.start(kafka, run + "-", "match.found", "match.room-assigned");
        MetricsSampler sampler =
            new MetricsSampler(
                MATCH_METRICS, GAME_STATE_METRICS, s.bulkQueue(), Duration.ofMillis(500), clock)) {
      BulkScenario scenario = new BulkScenario(MATCH, token, s.bulkQueue(), s.clients(), clock);
      long start = clock.millis();
      Thread progress =
          new Thread(
              () -> showProgress(out, scenario, observer, count, start, s, clock), "progress");
      progress.setDaemon(true);
      progress.start();
      BulkScenario.Enqueued enqueued =
          scenario.enqueue(players, (at, n) -> enqueueEvents.add(new long[] {at, n}));
      progress.join();
      MetricsSampler.Point counters = sampler.latest();
      return BulkResult.of(
          count,
          PLAYERS_PER_MATCH,
          enqueued.queued(),
          enqueued.refused(),
          enqueued.startedAtMs(),
          enqueued.finishedAtMs(),
          List.copyOf(enqueueEvents),
          observer.matches(),
          observer.playersSent(),
          observer.playersSeated(),
          observer.duplicated().size(),
          counters,
          sampler.points());
    }
  }

  /** Redraws the bar until every player has a room or nobody got one for the stall time. */
  private static void showProgress(
      PrintStream out,
      BulkScenario scenario,
      MatchObserver observer,
      int total,
      long start,
      Settings s,
      Clock clock) {
    int lastSeated = -1;
    long lastChange = clock.millis();
    boolean tty = System.console() != null;
    long lastPrinted = 0;
    while (true) {
      int seated = observer.playersSeated();
      long now = clock.millis();
      if (seated != lastSeated) {
        lastSeated = seated;
        lastChange = now;
      }
      boolean done = seated >= total || now - lastChange > s.stallSeconds() * 1000L;
      String line =
          ProgressBar.render(
              "in rooms",
              seated,
              total,
              (now - start) / 1000.0,
              String.format(
                  Locale.ROOT, "queued %,d  sent %,d", scenario.queued(), observer.playersSent()));
      if (tty) {
        out.print("\r" + line);
      } else if (done || now - lastPrinted >= 2000) {
        out.println(line); // a log, not a terminal: one line every 2 s
        lastPrinted = now;
      }
      if (done) {
        out.println();
        return;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        return;
      }
    }
  }
}
