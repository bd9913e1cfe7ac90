package dev.citadel.loadtest.http;

import static io.gatling.javaapi.core.CoreDsl.StringBody;
import static io.gatling.javaapi.core.CoreDsl.exec;
import static io.gatling.javaapi.core.CoreDsl.global;
import static io.gatling.javaapi.core.CoreDsl.jsonPath;
import static io.gatling.javaapi.core.CoreDsl.rampUsers;
import static io.gatling.javaapi.core.CoreDsl.scenario;
import static io.gatling.javaapi.core.CoreDsl.substring;
import static io.gatling.javaapi.http.HttpDsl.http;
import static io.gatling.javaapi.http.HttpDsl.status;
import static io.gatling.javaapi.http.HttpDsl.ws;

import io.gatling.http.action.ws.WsInboundMessage;
import io.gatling.javaapi.core.ScenarioBuilder;
import io.gatling.javaapi.core.Simulation;
import io.gatling.javaapi.http.HttpProtocolBuilder;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
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

  String gateway = System.getProperty("citadel.gateway", "http://127.0.0.1:8080");
  int players = Integer.getInteger("citadel.players", 200);
  // Five new players a second: on a 2-core machine running the whole platform, faster arrivals
  // measure JIT warm-up of six cold JVMs rather than the platform.
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

  ScenarioBuilder player =
      scenario("player")
          .feed(nicknames)
          .exec(
              http("sign up")
                  .post("/api/members")
                  .body(StringBody(credentials))
                  .check(status().is(201), jsonPath("$.playerId").saveAs("playerId")))
          .exec(
              http("log in")
                  .post("/api/members/login")
                  .body(StringBody(credentials))
                  .check(status().is(200), jsonPath("$.token").saveAs("token")))
          .exec(
              ws("connect")
                  .connect("/ws?access_token=#{token}")
                  .await(Duration.ofSeconds(connectTimeout))
                  .on(
                      ws.checkTextMessage("connected")
                          .matching(substring("\"connected\""))
                          .check(substring("#{playerId}"))))
          .exitHereIfFailed() // one error per player, not a cascade of follow-ups
          .exec(
              http("queue")
                  .post("/api/match/queue")
                  .header("Authorization", "Bearer #{token}")
                  .body(StringBody("{\"queue\":\"" + queue + "\"}"))
                  .check(status().is(200)))
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
                  ws("room assigned")
                      .sendText("{\"type\":\"waiting\"}")
                      .await(Duration.ofSeconds(roomTimeout))
                      .on(
                          ws.checkTextMessage("match.room-assigned")
                              .matching(substring("match.room-assigned"))
                              .check(substring("\"room\"")))))
          .exec(
              http("status")
                  .get("/api/match/status?queue=" + queue)
                  .header("Authorization", "Bearer #{token}")
                  .check(status().is(200), jsonPath("$.state").is("IN_GAME")))
          .exec(ws("close").close());

  {
    setUp(player.injectOpen(rampUsers(players).during(Duration.ofSeconds(ramp))))
        .protocols(protocol)
        .assertions(global().failedRequests().count().is(0L));
  }
}
