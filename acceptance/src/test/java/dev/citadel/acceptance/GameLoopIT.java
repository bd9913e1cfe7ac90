package dev.citadel.acceptance;

import static dev.citadel.acceptance.Platform.GAME_STATE_A;
import static dev.citadel.acceptance.Platform.GATEWAY;
import static dev.citadel.acceptance.Platform.get;
import static dev.citadel.acceptance.Platform.newPlayer;
import static dev.citadel.acceptance.Platform.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.citadel.acceptance.Platform.Player;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole game loop through the real platform: ten players sign up and queue through the gateway,
 * a game server with its service token reads the match and posts the result, every rating moves by
 * exactly what an independent Elo computation says, rewards are granted, each player's socket says
 * so, and the next match is made at the new ratings.
 */
class GameLoopIT {
  static final int INITIAL = 1200;
  static final int PROVISIONAL_K = 48;

  /**
   * The players' sockets have a client of their own: their frames are read on its selector thread,
   * never on the one every request of the tests waits on.
   */
  static final HttpClient SOCKETS =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  static void start() {
    Platform.started();
  }

  /** Messages pushed to one player's socket. */
  static final class Socket implements WebSocket.Listener {
    final List<String> messages = new CopyOnWriteArrayList<>();
    private final StringBuilder partial = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      partial.append(data);
      if (last) {
        messages.add(partial.toString());
        partial.setLength(0);
      }
      ws.request(1);
      return null;
    }
  }

  static String queue(Player p) {
    return post(GATEWAY, "/api/match/queue", p.token(), "{\"queue\":\"ranked\"}").toString();
  }

  static JsonNode status(Player p) {
    return get(GATEWAY, "/api/match/status?queue=ranked", p.token()).json();
  }

  static int rating(Player p) {
    JsonNode ranked = Platform.player(p).path("ratings").path("ranked");
    return ranked.isMissingNode() ? INITIAL : ranked.get("rating").asInt();
  }

  /** Everyone queues; waits until all ten are in one game; answers its id. */
  static String playTogether(List<Player> players) {
    for (Player p : players) {
      assertThat(queue(p)).startsWith("200");
    }
    await()
        .atMost(Duration.ofSeconds(90))
        .until(
            () ->
                players.stream().allMatch(p -> "IN_GAME".equals(status(p).path("state").asText())));
    String matchId = status(players.get(0)).get("matchId").asText();
    for (Player p : players) {
      assertThat(status(p).get("matchId").asText()).isEqualTo(matchId);
    }
    return matchId;
  }

  /** Elo from the team averages, computed here independently of the code under test. */
  static int change(List<Integer> own, List<Integer> opponents, double score) {
    double ownAverage = own.stream().mapToInt(Integer::intValue).average().orElseThrow();
    double opponentAverage = opponents.stream().mapToInt(Integer::intValue).average().orElseThrow();
    double expected = 1 / (1 + Math.pow(10, (opponentAverage - ownAverage) / 400));
    return (int) Math.round(PROVISIONAL_K * (score - expected));
  }

  /** Posts team 0's win and checks every rating against the lineup the game server read. */
  static Map<String, Integer> win(String matchId, String gameServer, Map<String, Player> byId) {
    JsonNode match = get(GAME_STATE_A, "/internal/matches/" + matchId, gameServer).json();
    assertThat(match.get("state").asText()).isEqualTo("IN_ROOM");
    List<List<String>> teams = new ArrayList<>();
    List<List<Integer>> ratings = new ArrayList<>();
    for (JsonNode team : match.get("teams")) {
      List<String> ids = new ArrayList<>();
      List<Integer> rs = new ArrayList<>();
      for (JsonNode member : team) {
        ids.add(member.get("playerId").asText());
        rs.add(member.get("rating").asInt());
        assertThat(member.get("rating").asInt())
            .as("queued at the current rating")
            .isEqualTo(rating(byId.get(member.get("playerId").asText())));
      }
      teams.add(ids);
      ratings.add(rs);
    }
    assertThat(teams.get(0).size() + teams.get(1).size()).isEqualTo(10);
    Map<String, Long> goldBefore = new HashMap<>();
    byId.forEach((id, p) -> goldBefore.put(id, Platform.player(p).get("gold").asLong()));

    var posted =
        post(
            GAME_STATE_A,
            "/internal/matches/" + matchId + "/result",
            gameServer,
            "{\"winningTeam\":0}");
    assertThat(posted.status()).as(posted.toString()).isEqualTo(200);

    Map<String, Integer> after = new HashMap<>();
    for (int t = 0; t < 2; t++) {
      int delta = change(ratings.get(t), ratings.get(1 - t), t == 0 ? 1.0 : 0.0);
      for (int i = 0; i < teams.get(t).size(); i++) {
        String id = teams.get(t).get(i);
        after.put(id, ratings.get(t).get(i) + delta);
        Player p = byId.get(id);
        assertThat(rating(p)).as(id).isEqualTo(ratings.get(t).get(i) + delta);
        assertThat(Platform.player(p).get("gold").asLong())
            .as("the queue's reward")
            .isEqualTo(goldBefore.get(id) + (t == 0 ? 100 : 25));
      }
    }
    return after;
  }

  @Test
  void ten_players_queue_play_get_rated_and_rewarded_and_queue_again_at_their_new_rating()
      throws Exception {
    List<Player> players = new ArrayList<>();
    Map<String, Player> byId = new HashMap<>();
    Map<String, Socket> sockets = new ConcurrentHashMap<>();
    List<WebSocket> open = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Player p = newPlayer();
      players.add(p);
      byId.put(p.id(), p);
      Socket socket = new Socket();
      sockets.put(p.id(), socket);
      open.add(
          SOCKETS
              .newWebSocketBuilder()
              .buildAsync(
                  URI.create(
                      "ws://127.0.0.1:" + GATEWAY.getPort() + "/ws?access_token=" + p.token()),
                  socket)
              .get(30, TimeUnit.SECONDS));
    }
    try {
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () ->
                  sockets.values().stream()
                      .allMatch(s -> s.messages.stream().anyMatch(m -> m.contains("connected"))));
      String gameServer = Platform.serviceToken("game-server", "game-state");

      String first = playTogether(players);
      win(first, gameServer, byId);
      for (Player p : players) {
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    sockets.get(p.id()).messages.stream()
                        .anyMatch(m -> m.contains("match.result") && m.contains(first)));
      }
      // Back in the lobby (the game ended with its result), they queue again: the next match is
      // made at the new ratings (checked against the lineup in win()).
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  players.stream()
                      .allMatch(p -> "NOT_QUEUED".equals(status(p).path("state").asText())));
      String second = playTogether(players);
      assertThat(second).isNotEqualTo(first);
      win(second, gameServer, byId);
    } finally {
      open.forEach(ws -> ws.abort());
    }
  }
}
