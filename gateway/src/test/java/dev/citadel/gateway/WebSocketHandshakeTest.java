package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

/**
 * A proxied WebSocket's handshake with the game-state instance is bounded; the socket it opens is
 * not. An instance that took the connection and never answered the upgrade held the player's
 * socket, already upgraded at the gateway, and the gateway's own for ever.
 */
@CitadelInfra
class WebSocketHandshakeTest {
  final AtomicInteger upgradesAsked = new AtomicInteger();
  final Sinks.Empty<Void> release = Sinks.empty();

  /** Answers {@code /ws} for player "quiet" and holds it (never answered) for the others. */
  final DisposableServer instance =
      HttpServer.create()
          .host("127.0.0.1")
          .port(0)
          .route(
              routes ->
                  routes
                      .get("/readyz", (request, response) -> response.sendString(Mono.just("{}")))
                      .get(
                          "/ws",
                          (request, response) -> {
                            upgradesAsked.incrementAndGet();
                            if (subject(request.requestHeaders().get("Authorization", ""))
                                .equals("quiet")) {
                              return response.sendWebsocket(
                                  (in, out) ->
                                      out.sendString(Mono.just("hello"))
                                          .then(release.asMono())
                                          .then(in.receive().then()));
                            }
                            return release.asMono(); // takes the request, never answers it
                          }))
          .bindNow(Duration.ofSeconds(5));

  ConfigurableApplicationContext gateway;

  /** The player a bearer token names (its payload's {@code sub}; verified by the gateway). */
  static String subject(String authorization) {
    String[] parts = authorization.replaceFirst("^Bearer ", "").split("\\.");
    if (parts.length < 2) {
      return "";
    }
    String payload =
        new String(
            java.util.Base64.getUrlDecoder().decode(parts[1]),
            java.nio.charset.StandardCharsets.UTF_8);
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("\"sub\"\\s*:\\s*\"([^\"]*)\"").matcher(payload);
    return m.find() ? m.group(1) : "";
  }

  @AfterEach
  void stop() {
    release.tryEmitEmpty();
    if (gateway != null) {
      gateway.close();
    }
    instance.disposeNow();
  }

  HttpClient client(String player) {
    return HttpClient.create()
        .baseUrl("http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port"))
        .headers(h -> h.set("Authorization", "Bearer " + TestIdentity.shared().player(player)));
  }

  @Test
  void an_upgrade_never_answered_is_closed_after_the_handshake_timeout_a_quiet_socket_is_not() {
    gateway =
        TestGateways.start(
            "http://127.0.0.1:" + instance.port(),
            "--citadel.gateway.game-state.health-interval=200ms",
            "--spring.cloud.gateway.server.webflux.httpclient.response-timeout=2s");
    // Routing to the instance once its probe says ready (before, an upgrade is a 503).
    var instances = gateway.getBean(dev.citadel.affinity.GameStateInstances.class);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> !instances.healthy().isEmpty());
    List<String> heard = new CopyOnWriteArrayList<>();
    var quiet =
        client("quiet")
            .websocket()
            .uri("/ws")
            .handle((in, out) -> in.receive().asString().doOnNext(heard::add))
            .then()
            .toFuture();
    var held =
        client("held")
            .websocket()
            .uri("/ws")
            .handle((in, out) -> in.receive().asString().doOnNext(heard::add))
            .then()
            .toFuture();

    // The held one ends (closed by the gateway once its handshake timed out, 2 s here) ...
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(held::isDone);
    assertThat(upgradesAsked.get()).isEqualTo(2);
    // ... while the quiet one, answered, stays open past that bound.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> heard.contains("hello"));
    org.awaitility.Awaitility.await()
        .pollDelay(Duration.ofSeconds(4))
        .atMost(Duration.ofSeconds(6))
        .until(() -> !quiet.isDone());
  }
}
