package dev.citadel.match.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.match.GameStateProcess;
import dev.citadel.match.domain.SkillWindow;
import dev.citadel.match.queue.Queues;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.http.MediaType;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Real Redis, Kafka and PostgreSQL; match-service here, game-state-service as its own process:
 * 10,000 players -> 1,000 matches -> 1,000 rooms, nothing lost or duplicated.
 */
@CitadelInfra
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
@ActiveProfiles("loadtest")
class MatchPipelineTest {
  /** A load test's token for the bulk route. */
  static final java.util.function.Supplier<String> BULK =
      () -> TestIdentity.shared().service("loadtest", "match-service", "match.bulk");

  /**
   * The production window, but any spread after 10 s instead of 60 s: the last match of a pool that
   * drains holds the leftovers of both Elo tails, which only max-wait releases.
   */
  static final SkillWindow WINDOW = new SkillWindow(100, 25, 1000, 10_000);

  static ServiceProcess gameState;

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    TestIdentity.shared()
        .serviceProperties("match-service")
        .forEach((k, v) -> registry.add(k, () -> v));
    registry.add("spring.data.redis.url", () -> SharedInfra.redis().url());
    registry.add("citadel.kafka.bootstrap-servers", () -> SharedInfra.kafka().bootstrapServers());
    registry.add("citadel.match.queues", () -> "ranked,casual");
    registry.add("citadel.match.room-timeout", () -> "30s");
    registry.add("citadel.match.window.max-wait", () -> WINDOW.maxWaitMs() + "ms");
  }

  @BeforeAll
  static void startGameState() throws Exception {
    gameState = GameStateProcess.start("game-state", "game_state_match");
  }

  @AfterAll
  static void stopGameState() {
    if (gameState != null) {
      gameState.stop(Duration.ofSeconds(20));
    }
  }

  @Autowired WebTestClient web;
  @Autowired Queues queues;
  @Autowired ReactiveStringRedisTemplate redis;

  @Test
  void ten_thousand_players_become_a_thousand_rooms_with_nothing_lost_or_duplicated() {
    int players = 10_000;
    Random random = new Random(17);
    Map<String, Integer> elo = new HashMap<>();
    long started = System.currentTimeMillis();
    for (int batch = 0; batch < players / 1000; batch++) {
      List<Map<String, Object>> body = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        String id = "bulk-" + (batch * 1000 + i);
        int rating = (int) (1500 + random.nextGaussian() * 150);
        elo.put(id, rating);
        body.add(Map.of("playerId", id, "nickname", "n" + id.hashCode(), "elo", rating));
      }
      web.post()
          .uri("/internal/match/bulk")
          .headers(h -> h.setBearerAuth(BULK.get()))
          .contentType(MediaType.APPLICATION_JSON)
          .bodyValue(Map.of("queue", "ranked", "players", body))
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.queued")
          .isEqualTo(1000);
    }

    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> queues.counts("ranked").block().get("inGame") == players);
    long seconds = (System.currentTimeMillis() - started) / 1000;

    Map<String, Long> counts = queues.counts("ranked").block();
    assertThat(counts).containsEntry("waiting", 0L).containsEntry("matched", 0L);

    Assignments a = Assignments.read(redis, "ranked");
    assertThat(a.assigned()).hasSize(players);
    a.roomsByMatch().values().forEach(r -> assertThat(r).as("one room per match").hasSize(1));
    Map<String, List<String>> byMatch = a.playersByMatch();
    assertThat(byMatch).hasSize(players / 10);
    byMatch.values().forEach(p -> assertThat(p).hasSize(10));
    assertThat(a.rooms())
        .as("every match its own room")
        .hasSize(players / 10)
        .doesNotContain("0/0");
    List<Integer> spreads =
        byMatch.values().stream()
            .map(
                match ->
                    match.stream().mapToInt(elo::get).max().orElseThrow()
                        - match.stream().mapToInt(elo::get).min().orElseThrow())
            .sorted()
            .toList();
    assertThat(spreads.stream().filter(d -> d > WINDOW.cap()))
        .as("beyond the cap: only the leftovers that max-wait released (%d s in all)", seconds)
        .hasSizeLessThanOrEqualTo(1);
    assertThat(spreads.get(spreads.size() * 99 / 100))
        .as("99 %% of the matches within the window a player gets at once")
        .isLessThanOrEqualTo(WINDOW.start());
  }

  @Test
  void bad_input_gets_clear_4xx_answers() {
    web.post()
        .uri("/api/match/queue")
        .headers(h -> h.setBearerAuth(TestIdentity.shared().player("p1")))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"queue\":\"nope\"}")
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.detail")
        .value(String.class, d -> assertThat(d).contains("unknown queue 'nope'"));
    web.delete()
        .uri("/api/match/queue?queue=ranked")
        .headers(h -> h.setBearerAuth(TestIdentity.shared().player("nobody-queued")))
        .exchange()
        .expectStatus()
        .isNotFound()
        .expectBody()
        .jsonPath("$.detail")
        .value(String.class, d -> assertThat(d).contains("not queued"));
    // The body is read (a problem), so the connection goes back to the pool.
    web.get()
        .uri("/api/match/status?queue=ranked")
        .exchange()
        .expectStatus()
        .isUnauthorized()
        .expectBody()
        .jsonPath("$.status")
        .isEqualTo(401);
    // Already queued: the same player twice is refused (one ticket per player).
    bulkOne("twice", "t").expectStatus().isOk().expectBody().jsonPath("$.queued").isEqualTo(1);
    bulkOne("twice", "t").expectStatus().isOk().expectBody().jsonPath("$.refused").isEqualTo(1);
    // The queue stores a match's players with ';', '|' and '#' between them: refused, with why.
    bulkOne("semi", "a;b")
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.detail")
        .value(d -> assertThat((String) d).contains("may not hold"));
    for (String id : List.of("a|b", "a#b", " ")) {
      bulkOne(id, "ok").expectStatus().isBadRequest();
    }
    web.get()
        .uri("/api/match/status?queue=casual")
        .headers(h -> h.setBearerAuth(TestIdentity.shared().player("twice")))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.state")
        .isEqualTo("WAITING");
    web.delete()
        .uri("/api/match/queue?queue=casual")
        .headers(h -> h.setBearerAuth(TestIdentity.shared().player("twice")))
        .exchange()
        .expectStatus()
        .isOk();
  }

  /** One player queued in casual through the bulk path. */
  private WebTestClient.ResponseSpec bulkOne(String playerId, String nickname) {
    return web.post()
        .uri("/internal/match/bulk")
        .headers(h -> h.setBearerAuth(BULK.get()))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(
            Map.of(
                "queue",
                "casual",
                "players",
                List.of(Map.of("playerId", playerId, "nickname", nickname, "elo", 1000))))
        .exchange();
  }
}
