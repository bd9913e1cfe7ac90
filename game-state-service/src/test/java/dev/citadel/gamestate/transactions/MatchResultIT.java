package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.match.v1.MatchFound;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A game server closes the loop on two real game-state processes: it reads its match, posts the
 * result (five times at once, then again after the instance that applied it restarted), and every
 * player's rating moves by exactly what an independent Elo computation says, with the queue's
 * reward, once.
 */
@CitadelInfra
class MatchResultIT {
  // The defaults of application.yml: new players are provisional (K 48).
  static final int INITIAL = 1200;
  static final int PROVISIONAL_K = 48;
  static final long WIN_GOLD = 100;
  static final long LOSS_GOLD = 25;
  static final long DRAW_GOLD = 50;
  static TwoInstances cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = TwoInstances.shared();
  }

  static WebClient gameServer(String url) {
    return WebClient.builder()
        .baseUrl(url)
        .defaultHeaders(
            h ->
                h.setBearerAuth(
                    TestIdentity.shared()
                        .service("game-server", "game-state", "match.read", "match.results")))
        .build();
  }

  record Answer(int status, Map<String, Object> body) {}

  @SuppressWarnings("unchecked")
  static Answer post(String url, String matchId, Map<String, Object> result) {
    return gameServer(url)
        .post()
        .uri("/internal/matches/{id}/result", matchId)
        .bodyValue(result)
        .exchangeToMono(
            r ->
                r.bodyToMono(Map.class)
                    .defaultIfEmpty(Map.of())
                    .map(b -> new Answer(r.statusCode().value(), (Map<String, Object>) b)))
        .block(Duration.ofSeconds(60));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> match(String url, String matchId) {
    return gameServer(url)
        .get()
        .uri("/internal/matches/{id}", matchId)
        .retrieve()
        .bodyToMono(Map.class)
        .block(Duration.ofSeconds(30));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> player(String id) {
    return TwoInstances.client(cluster.owner(id))
        .get()
        .uri("/api/game/players/{id}", id)
        .headers(h -> h.setBearerAuth(TwoInstances.token(id)))
        .retrieve()
        .bodyToMono(Map.class)
        .block(Duration.ofSeconds(30));
  }

  @SuppressWarnings("unchecked")
  static int rating(String id) {
    Map<String, Object> ratings = (Map<String, Object>) player(id).get("ratings");
    Map<String, Object> ranked = (Map<String, Object>) ratings.get("ranked");
    return ranked == null ? INITIAL : ((Number) ranked.get("rating")).intValue();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> ratingRead(String id) {
    return WebClient.builder()
        .baseUrl(cluster.urls.get(1))
        .defaultHeaders(
            h ->
                h.setBearerAuth(
                    TestIdentity.shared().service("match-service", "game-state", "ratings.read")))
        .build()
        .get()
        .uri("/internal/players/{id}/ratings/ranked", id)
        .retrieve()
        .bodyToMono(Map.class)
        .block(Duration.ofSeconds(30));
  }

  static long gold(String id) {
    return ((Number) player(id).get("gold")).longValue();
  }

  /** Places a match the way match-service hands it over (match.found), and waits for its room. */
  static String place(List<String> team0, List<String> team1, Map<String, Integer> ratings) {
    String matchId = "ranked-" + UUID.randomUUID();
    MatchFound.Builder found =
        MatchFound.newBuilder()
            .setMatchId(matchId)
            .setQueue("ranked")
            .setCreatedAtEpochMs(System.currentTimeMillis())
            .setAttempt(1);
    for (int team = 0; team < 2; team++) {
      for (String p : team == 0 ? team0 : team1) {
        found.addPlayers(
            MatchedPlayer.newBuilder()
                .setPlayerId(p)
                .setNickname("n" + Integer.toHexString(p.hashCode()))
                .setElo(ratings.get(p))
                .setTeam(team));
      }
    }
    try (var publisher =
        new ReactorKafkaPublisher(
            KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "test-found"))) {
      publisher
          .publish(new OutgoingMessage("match.found", matchId, found.build().toByteArray()))
          .block(Duration.ofSeconds(30));
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .ignoreExceptions()
        .until(() -> "IN_ROOM".equals(match(cluster.urls.get(0), matchId).get("state")));
    return matchId;
  }

  /** Elo from the team averages, computed here independently of the code under test. */
  static int change(List<Integer> own, List<Integer> opponents, double score) {
    double ownAverage = own.stream().mapToInt(Integer::intValue).average().orElseThrow();
    double opponentAverage = opponents.stream().mapToInt(Integer::intValue).average().orElseThrow();
    double expected = 1 / (1 + Math.pow(10, (opponentAverage - ownAverage) / 400));
    return (int) Math.round(PROVISIONAL_K * (score - expected));
  }

  @Test
  void a_match_whose_lineup_cannot_be_rated_refuses_a_result_and_stays_open_to_end() {
    List<String> players = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      players.add("mr-" + UUID.randomUUID());
    }
    cluster.register(players);
    Map<String, Integer> ratings = new HashMap<>();
    players.forEach(p -> ratings.put(p, INITIAL));
    // Everyone on one team (a lineup no Elo can rate: there is no opponent).
    String matchId = place(players, List.of(), ratings);
    String url = cluster.urls.get(0);

    Answer refused = post(url, matchId, Map.of("winningTeam", 0));
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.body().get("detail").toString()).contains("cannot be rated");
    // Nothing was recorded: the game is still on, and ending it without a result works.
    assertThat(match(url, matchId)).containsEntry("state", "IN_ROOM");
    gameServer(url)
        .post()
        .uri("/internal/matches/{id}/end", matchId)
        .retrieve()
        .toBodilessEntity()
        .block(Duration.ofSeconds(30));
    assertThat(match(url, matchId)).containsEntry("state", "ENDED");
  }

  @Test
  void a_result_moves_every_rating_by_elo_and_rewards_once_however_often_it_is_posted() {
    List<String> players = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      players.add("mr-" + UUID.randomUUID());
    }
    cluster.register(players);
    Map<String, Integer> ratings = new HashMap<>();
    Map<String, Long> gold = new HashMap<>();
    for (String p : players) {
      ratings.put(p, rating(p));
      gold.put(p, gold(p));
    }
    List<String> team0 = players.subList(0, 5);
    List<String> team1 = players.subList(5, 10);
    String first = place(team0, team1, ratings);
    String url = cluster.urls.get(0);

    // What match-service asks when a player joins a queue: the rating, and the game they are in.
    // (Seats follow the match stream through the outbox: a moment after the room.)
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> first.equals(ratingRead(players.get(0)).get("inMatch")));
    assertThat(ratingRead(players.get(0)))
        .containsEntry("rating", INITIAL)
        .containsEntry("games", 0)
        // The nickname the queue shows: the player's now, not a token's that may be an hour old.
        .containsEntry("nickname", player(players.get(0)).get("nickname"));
    assertThat(player(players.get(0)).get("nickname")).isNotNull();

    Map<String, Object> view = match(url, first);
    assertThat(view).containsEntry("queue", "ranked").containsEntry("state", "IN_ROOM");
    assertThat((List<?>) view.get("teams")).hasSize(2);

    // Scores for a player who is not in the match: refused, and nothing recorded.
    Answer stranger =
        post(url, first, Map.of("winningTeam", 0, "scores", Map.of("someone-else", 3)));
    assertThat(stranger.status()).isEqualTo(400);
    assertThat(stranger.body().get("detail").toString()).contains("someone-else");
    assertThat(match(url, first)).containsEntry("state", "IN_ROOM");
    Map<String, Object> scored =
        Map.of("winningTeam", 0, "scores", Map.of(players.get(0), 12, players.get(5), 3));

    // Five game-server retries at once.
    List<Answer> answers =
        Flux.range(0, 5)
            .flatMap(
                i ->
                    Mono.fromCallable(() -> post(url, first, scored))
                        .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic()))
            .collectList()
            .block(Duration.ofSeconds(120));
    assertThat(answers)
        .as(answers.toString())
        .allSatisfy(a -> assertThat(a.status()).isEqualTo(200));
    assertThat(answers)
        .as("applied by one of them, the others answered as repeats: " + answers)
        .filteredOn(a -> Boolean.FALSE.equals(a.body().get("repeated")))
        .hasSize(1);

    Map<String, Integer> expected = new HashMap<>();
    List<Integer> r0 = team0.stream().map(ratings::get).toList();
    List<Integer> r1 = team1.stream().map(ratings::get).toList();
    team0.forEach(p -> expected.put(p, ratings.get(p) + change(r0, r1, 1.0)));
    team1.forEach(p -> expected.put(p, ratings.get(p) + change(r1, r0, 0.0)));
    for (String p : players) {
      assertThat(rating(p)).as(p).isEqualTo(expected.get(p));
      assertThat(gold(p)).isEqualTo(gold.get(p) + (team0.contains(p) ? WIN_GOLD : LOSS_GOLD));
    }
    assertThat(match(url, first))
        .containsEntry("state", "ENDED")
        .containsEntry("result", "TEAM_0_WON");
    assertThat(match(url, first).get("scores"))
        .isEqualTo(Map.of(players.get(0), 12, players.get(5), 3));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> ratingRead(players.get(0)).get("inMatch") == null);
    assertThat(ratingRead(players.get(0)))
        .containsEntry("rating", expected.get(players.get(0)))
        .containsEntry("games", 1);

    // The instance that applied it restarts; the game server sends the result again.
    cluster.processes.get(0).kill();
    cluster.processes.set(0, cluster.processes.get(0).restart());
    try {
      cluster.processes.get(0).awaitHealthy(Duration.ofSeconds(120));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    Answer again = post(url, first, scored);
    assertThat(again.status()).isEqualTo(200);
    assertThat(again.body()).containsEntry("repeated", true);
    assertThat(post(url, first, Map.of("winningTeam", 1)).status()).isEqualTo(409);
    assertThat(post(url, first, Map.of("winningTeam", 0)).status())
        .as("the same winner with other scores")
        .isEqualTo(409);
    assertThat(post(url, "ranked-no-such-match", Map.of("draw", true)).status()).isEqualTo(404);
    assertThat(post(url, first, Map.of("winningTeam", 2)).status()).isEqualTo(400);
    assertThat(post(url, first, Map.of("winningTeam", 0, "draw", true)).status()).isEqualTo(400);
    assertThat(
            WebClient.create(url)
                .post()
                .uri("/internal/matches/{id}/result", first)
                .headers(h -> h.setBearerAuth(TwoInstances.token(players.get(0))))
                .bodyValue(Map.of("winningTeam", 0))
                .exchangeToMono(r -> Mono.just(r.statusCode().value()))
                .block())
        .as("a player may not post results")
        .isEqualTo(403);
    assertThat(
            WebClient.create(url)
                .post()
                .uri("/internal/matches/{id}/result", first)
                .bodyValue(Map.of("winningTeam", 0))
                .exchangeToMono(r -> Mono.just(r.statusCode().value()))
                .block())
        .as("no token")
        .isEqualTo(401);
    for (String p : players) {
      assertThat(rating(p)).as("applied once: %s", p).isEqualTo(expected.get(p));
    }

    // A second game with mixed teams, queued at the new ratings: a draw moves them by the
    // surprise of each side's average.
    // Three winners and a loser (average 1212) against two winners and four losers (1192).
    List<String> mixed0 = List.of(players.get(0), players.get(1), players.get(2), players.get(5));
    List<String> mixed1 = new ArrayList<>(players);
    mixed1.removeAll(mixed0);
    Map<String, Integer> now = new HashMap<>(expected);
    String second = place(mixed0, mixed1, now);
    assertThat(post(cluster.urls.get(1), second, Map.of("draw", true)).status()).isEqualTo(200);
    List<Integer> m0 = mixed0.stream().map(now::get).toList();
    List<Integer> m1 = mixed1.stream().map(now::get).toList();
    for (String p : players) {
      int delta = mixed0.contains(p) ? change(m0, m1, 0.5) : change(m1, m0, 0.5);
      assertThat(rating(p)).as(p).isEqualTo(now.get(p) + delta);
      assertThat(gold(p))
          .isEqualTo(gold.get(p) + (team0.contains(p) ? WIN_GOLD : LOSS_GOLD) + DRAW_GOLD);
    }
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> recent =
        (List<Map<String, Object>>) player(players.get(0)).get("recentMatches");
    assertThat(recent).extracting(m -> m.get("matchId")).containsExactly(second, first);
    assertThat(recent.get(1)).containsEntry("outcome", "WIN");
  }
}
