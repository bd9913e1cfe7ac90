package dev.citadel.loadtest.http;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.doIf;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.pause;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.substring;
import static io.gatling.javaapi.http.HttpDsl.header;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;
import static io.gatling.javaapi.http.HttpDsl.ws;

import dev.citadel.loadtest.report.HttpResult;
import io.gatling.http.action.ws.WsInboundMessage;
import io.gatling.javaapi.core.ChainBuilder;
import io.gatling.javaapi.core.PopulationBuilder;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Session;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import io.gatling.javaapi.http.HttpRequestActionBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * The full path of a player through the gateway: sign up, log in (JWT), open the notification
 * WebSocket, queue over HTTP, wait on the WebSocket until a room is assigned, read the status.
 *
 * <p>Settings (system properties): {@code citadel.gateway} (base URL), {@code citadel.players}
 * (virtual players; a multiple of the match size, or the last ones wait forever), {@code
 * citadel.ramp-seconds}, {@code citadel.queue}, {@code citadel.run} (makes nicknames unique per
 * run), {@code citadel.room-timeout-seconds}, {@code citadel.connect-timeout-seconds}.
 */
public class FullPathSimulation extends Simulation {
  static final String PASSWORD = "load-test-password";
  static final String STATUS = "status";
  static final String RETRY_AFTER = "retryAfter";
  static final String TRY = "try";

  /** A request refused this many times in a row fails. */
  static final int TRIES = 20;

  /** Refusals per request name, and players who reached the end, in this (Gatling's) JVM. */
  static final Map<String, LongAdder> REFUSED = new ConcurrentHashMap<>();

  static final LongAdder FINISHED = new LongAdder();

  String gateway = System.getProperty("citadel.gateway", "http://127.0.0.1:8080");
  int players = Integer.getInteger("citadel.players", 200);
  // Players who go the whole path first, five a second, before the measured ones start: their
  // figures are those of JVMs seeing the path for the first time (reported apart).
  int warmUp = Integer.getInteger("citadel.warm-up-players", 0);
  // Five new players a second unless told (see LoadTest).
  int ramp = Integer.getInteger("citadel.ramp-seconds", Math.max(1, players / 5));
  String queue = System.getProperty("citadel.queue", "casual");
  String run =
      System.getProperty("citadel.run", "r" + Long.toString(System.nanoTime() % 46656, 36));
  int roomTimeout = Integer.getInteger("citadel.room-timeout-seconds", 120);
  int connectTimeout = Integer.getInteger("citadel.connect-timeout-seconds", 30);

  HttpProtocolBuilder protocol =
      http.baseUrl(gateway)
          .wsBaseUrl(gateway.replaceFirst("^http", "ws"))
          .acceptHeader("application/json")
          .contentTypeHeader("application/json")
          .wsUnmatchedInboundMessageBufferSize(32)
          .disableWarmUp(); // the default warm-up calls gatling.io

  AtomicInteger next = new AtomicInteger();
  Iterator<Map<String, Object>> nicknames =
      Stream.generate(() -> Map.<String, Object>of("nickname", run + "_" + next.getAndIncrement()))
          .iterator();

  String credentials = "{\"nickname\":\"#{nickname}\",\"password\":\"" + PASSWORD + "\"}";

  /**
   * One cohort of players; {@code prefix} starts its request names (the warm-up's are reported
   * apart).
   */
  ScenarioBuilder player(String name, String prefix) {
    return scenario(name)
        .feed(nicknames)
        .exec(
            refusable(
                http(prefix + "sign up")
                    .post("/api/members")
                    .body(StringBody(credentials))
                    .check(
                        status().saveAs(STATUS),
                        header("Retry-After").optional().saveAs(RETRY_AFTER))
                    .check(status().is(201), jsonPath("$.playerId").saveAs("playerId")),
                prefix + "sign up"))
        .exitHereIfFailed()
        .exec(
            refusable(
                http(prefix + "log in")
                    .post("/api/members/login")
                    .body(StringBody(credentials))
                    .check(
                        status().saveAs(STATUS),
                        header("Retry-After").optional().saveAs(RETRY_AFTER))
                    .check(status().is(200), jsonPath("$.token").saveAs("token")),
                prefix + "log in"))
        .exitHereIfFailed()
        .exec(
            ws(prefix + "connect")
                .connect("/ws?access_token=#{token}")
                .await(Duration.ofSeconds(connectTimeout))
                .on(
                    ws.checkTextMessage(prefix + "connected")
                        .matching(substring("\"connected\""))
                        .check(substring("#{playerId}"))))
        .exitHereIfFailed() // one error per player, not a cascade of follow-ups
        .exec(
            refusable(
                http(prefix + "queue")
                    .post("/api/match/queue")
                    .header("Authorization", "Bearer #{token}")
                    .body(StringBody("{\"queue\":\"" + queue + "\"}"))
                    .check(
                        status().saveAs(STATUS),
                        header("Retry-After").optional().saveAs(RETRY_AFTER))
                    .check(status().is(200)),
                prefix + "queue"))
        .exitHereIfFailed()
        // The room may already have been pushed while the queue call returned.
        .exec(
            ws.processUnmatchedMessages(
                (messages, session) ->
                    session.set(
                        "roomSeen",
                        messages.stream()
                            .anyMatch(
                                m ->
                                    m instanceof WsInboundMessage.Text t
                                        && t.message().contains("match.room-assigned")))))
        // The socket only pushes; a text frame from the client is read and ignored, and lets
        // Gatling wait for the notification.
        .doIf(session -> !session.getBoolean("roomSeen"))
        .then(
            exec(
                ws(prefix + "room assigned")
                    .sendText("{\"type\":\"waiting\"}")
                    .await(Duration.ofSeconds(roomTimeout))
                    .on(
                        ws.checkTextMessage(prefix + "match.room-assigned")
                            .matching(substring("match.room-assigned"))
                            .check(substring("\"room\"")))))
        .exec(
            http(prefix + "status")
                .get("/api/match/status?queue=" + queue)
                .header("Authorization", "Bearer #{token}")
                .check(status().is(200), jsonPath("$.state").is("IN_GAME")))
        .exec(ws(prefix + "close").close())
        .exec(
            session -> {
              FINISHED.increment();
              return session;
            });
  }

  {
    // No assertion on Gatling's failed count: a refusal is a KO in its figures (so that its
    // percentiles of OK requests are those of accepted ones) and passes; GatlingRun decides.
    PopulationBuilder measured =
        player("player", "").injectOpen(rampUsers(players).during(Duration.ofSeconds(ramp)));
    setUp(
            warmUp == 0
                ? measured
                : player("warm-up", HttpResult.WARM_UP)
                    .injectOpen(
                        rampUsers(warmUp).during(Duration.ofSeconds(Math.max(1, warmUp / 5))))
                    .andThen(measured))
        .protocols(protocol);
  }

  /**
   * A request the platform may refuse when it is busy (503, or the gateway's 429, with {@code
   * Retry-After}): the player waits what it says and sends the request again, as a game client
   * does, up to {@link #TRIES} times. A refusal stays a KO in Gatling's figures (so its OK
   * percentiles are those of accepted requests) and is counted apart; the player's session goes on
   * as if nothing failed. Any other failure ends the loop with the session failed.
   *
   * @param request with its {@link #STATUS} and {@link #RETRY_AFTER} saves before its own checks
   *     (Gatling applies the saves of the checks before a failing one)
   */
  static ChainBuilder refusable(HttpRequestActionBuilder request, String name) {
    return exec(session -> session.set(STATUS, 0))
        .asLongAs(
            session -> {
              return (session.getInt(STATUS) == 0 || refused(session))
                  && session.getInt(TRY) < TRIES;
            },
            TRY)
        .on(
            doIf(FullPathSimulation::refused)
                .then(pause(session -> retryAfter(session.getString(RETRY_AFTER))))
                .exec(session -> session.set(STATUS, -1).remove(RETRY_AFTER))
                .exec(request)
                .exec(
                    session -> {
                      if (!refused(session)) {
                        return session;
                      }
                      REFUSED.computeIfAbsent(name, n -> new LongAdder()).increment();
                      return session.markAsSucceeded();
                    }))
        .exec(
            session ->
                refused(session)
                    ? session.markAsFailed() // still refused after every try
                    : session);
  }

  /**
   * Refused because the platform is busy: 503 or 429 that says when to try again. A 503 without
   * {@code Retry-After} (an outage: no instance ready, an error) is a failure like any other.
   */
  static boolean refused(Session session) {
    int status = session.getInt(STATUS);
    return (status == 503 || status == 429) && session.contains(RETRY_AFTER);
  }

  /**
   * What the answer's Retry-After says (seconds; 1 when it says nothing usable, at most 30), plus
   * up to a second at random, as a client should: players refused together do not all come back in
   * the same instant.
   */
  static Duration retryAfter(String header) {
    long seconds;
    try {
      seconds = Math.max(1, Math.min(30, Long.parseLong(header.strip())));
    } catch (NullPointerException | NumberFormatException e) {
      seconds = 1;
    }
    return Duration.ofSeconds(seconds).plusMillis(ThreadLocalRandom.current().nextLong(1000));
  }

  /** Counts for GatlingRun, written to {@code citadel.outcome-file} once the run is over. */
  @Override
  public void after() {
    String file = System.getProperty("citadel.outcome-file");
    if (file == null) {
      return;
    }
    Properties outcome = new Properties();
    outcome.setProperty("finished", Long.toString(FINISHED.sum()));
    REFUSED.forEach((name, n) -> outcome.setProperty("refused." + name, Long.toString(n.sum())));
    try (var out = Files.newBufferedWriter(Path.of(file))) {
      outcome.store(out, "citadel full path outcome");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
