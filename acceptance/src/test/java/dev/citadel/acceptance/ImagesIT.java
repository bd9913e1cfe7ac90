package dev.citadel.acceptance;

import static dev.citadel.acceptance.Platform.GAME_STATE_A;
import static dev.citadel.acceptance.Platform.GATEWAY;
import static dev.citadel.acceptance.Platform.get;
import static dev.citadel.acceptance.Platform.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.acceptance.GameLoopIT.Socket;
import dev.citadel.acceptance.Platform.Player;
import dev.citadel.acceptance.Platform.Response;
import java.io.IOException;
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The README's walkthrough against the services started from their container images ({@code
 * ./run-images.sh}, which builds the images first and passes {@code -Dcitadel.images=true}): sign
 * up, log in, ten players queue, a room for their match, the game server ends it, {@code
 * match.ended} on the socket. Prints every answer, each image's size and each service's time from
 * start to ready.
 */
@EnabledIfSystemProperty(named = "citadel.images", matches = "true")
class ImagesIT {

  @BeforeAll
  static void start() {
    Platform.started();
  }

  static void show(String request, Response response) {
    String body = response.body();
    System.out.printf(
        "%s -> %d %s%n",
        request, response.status(), body.length() > 300 ? body.substring(0, 300) + " ..." : body);
  }

  @Test
  void the_walkthrough_runs_against_the_images() throws Exception {
    System.out.println("\n== Walkthrough against the images ==");
    String nickname = "w" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String credentials = "{\"nickname\":\"" + nickname + "\",\"password\":\"correct horse\"}";
    Response signUp = post(GATEWAY, "/api/members", null, credentials);
    show("POST /api/members", signUp);
    assertThat(signUp.status()).isEqualTo(201);
    Response login = post(GATEWAY, "/api/members/login", null, credentials);
    show("POST /api/members/login", new Response(login.status(), login.raw()));
    assertThat(login.status()).isEqualTo(200);
    String token = login.json().get("token").asText();
    Response me = get(GATEWAY, "/api/members/me", token);
    show("GET /api/members/me", me);
    String id = me.json().get("playerId").asText();
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> get(GATEWAY, "/api/game/players/" + id, token).status() == 200);
    show("GET /api/game/players/" + id, get(GATEWAY, "/api/game/players/" + id, token));

    Socket socket = new Socket();
    WebSocket ws =
        GameLoopIT.SOCKETS
            .newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + GATEWAY.getPort() + "/ws?access_token=" + token),
                socket)
            .get(30, TimeUnit.SECONDS);
    try {
      List<Player> others = new ArrayList<>();
      for (int i = 0; i < 9; i++) {
        others.add(Platform.newPlayer());
      }
      Response queued = post(GATEWAY, "/api/match/queue", token, "{\"queue\":\"ranked\"}");
      show("POST /api/match/queue", queued);
      assertThat(queued.status()).isEqualTo(200);
      for (Player p : others) {
        assertThat(post(GATEWAY, "/api/match/queue", p.token(), "{\"queue\":\"ranked\"}").status())
            .isEqualTo(200);
      }
      System.out.println("(nine more players signed up, logged in and queued)");
      await()
          .atMost(Duration.ofSeconds(90))
          .until(
              () ->
                  "IN_GAME"
                      .equals(
                          get(GATEWAY, "/api/match/status?queue=ranked", token)
                              .json()
                              .path("state")
                              .asText()));
      Response status = get(GATEWAY, "/api/match/status?queue=ranked", token);
      show("GET /api/match/status?queue=ranked", status);
      String matchId = status.json().get("matchId").asText();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> socket.messages.stream().anyMatch(m -> m.contains("match.room-assigned")));
      socket.messages.stream()
          .filter(m -> m.contains("match.room-assigned"))
          .forEach(m -> System.out.println("socket: " + m));

      String gameServer = Platform.serviceToken("game-server", "game-state");
      Response match = get(GAME_STATE_A, "/internal/matches/" + matchId, gameServer);
      show("GET /internal/matches/" + matchId + " (game server)", match);
      assertThat(match.json().get("state").asText()).isEqualTo("IN_ROOM");
      Response ended = post(GAME_STATE_A, "/internal/matches/" + matchId + "/end", gameServer, "");
      show("POST /internal/matches/" + matchId + "/end (game server)", ended);
      assertThat(ended.status()).isEqualTo(200);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  socket.messages.stream()
                      .anyMatch(m -> m.contains("match.ended") && m.contains(matchId)));
      socket.messages.stream()
          .filter(m -> m.contains("match.ended"))
          .forEach(m -> System.out.println("socket: " + m));
    } finally {
      ws.abort();
    }

    assertThat(running())
        .as("the answers came from the containers, all still running")
        .containsExactlyInAnyOrderElementsOf(
            Platform.started().images().keySet().stream().map(n -> "citadel-" + n).toList());
    System.out.println("\n| service | image | size | start to ready |");
    System.out.println("|---|---|---|---|");
    Map<String, Duration> ready = new TreeMap<>(Platform.started().readyAfter());
    ready.forEach(
        (service, took) -> {
          String image = Platform.started().images().get(service);
          System.out.printf(
              "| %s | %s | %s | %.1f s |%n", service, image, size(image), took.toMillis() / 1000.0);
        });
  }

  /** The names of the running containers Citadel started. */
  static List<String> running() throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                "podman",
                "ps",
                "--filter",
                "name=citadel-",
                "--filter",
                "status=running",
                "--format",
                "{{.Names}}")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor()).as(out).isZero();
    return out.isEmpty() ? List.of() : List.of(out.split("\\s+"));
  }

  /** The image's size as Podman reports it. */
  static String size(String image) {
    try {
      Process p =
          new ProcessBuilder("podman", "image", "inspect", "--format", "{{.Size}}", image)
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(30, TimeUnit.SECONDS);
      return String.format("%.0f MB", Long.parseLong(out) / 1e6);
    } catch (IOException | NumberFormatException e) {
      return "unknown (" + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }
}
