package dev.citadel.match.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.match.GameStateProcess;
import dev.citadel.match.queue.Queues;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
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
 * 100,000 players through the bulk path -> 10,000 rooms, end to end (Redis queue, matcher, Kafka,
 * game-state process placing rooms in PostgreSQL, answers back). Run with {@code ./mvnw -Pbenchmark
 * -pl match-service -am test}.
 */
@Tag("benchmark")
@CitadelInfra
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
@ActiveProfiles("loadtest")
class MatchmakingBenchmarkTest {
  static final int PLAYERS = Integer.getInteger("bench.players", 100_000);

  /** The reference write-up's wall time for 100,000 players (about 7 minutes). */
  static final double REFERENCE_SECONDS = 420;

  static final int CLIENTS = Integer.getInteger("bench.clients", 4);
  static ServiceProcess gameState;

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    registry.add("spring.data.redis.url", () -> SharedInfra.redis().url());
    registry.add("citadel.kafka.bootstrap-servers", () -> SharedInfra.kafka().bootstrapServers());
    registry.add("citadel.match.queues", () -> "bench");
    registry.add("citadel.match.room-timeout", () -> "5m");
    registry.add("citadel.match.window.max-wait", () -> "10s");
    registry.add("citadel.match.tick-interval", () -> System.getProperty("bench.tick", "200ms"));
  }

  @BeforeAll
  static void startGameState() throws Exception {
    gameState = GameStateProcess.start("game-state-bench", "game_state_bench");
  }

  @AfterAll
  static void stop() {
    gameState.stop(Duration.ofSeconds(20));
  }

  @Autowired WebTestClient web;
  @Autowired Queues queues;
  @Autowired ReactiveStringRedisTemplate redis;
  @Autowired MeterRegistry meters;

  @Test
  @org.junit.jupiter.api.Timeout(value = 15, unit = TimeUnit.MINUTES)
  void one_hundred_thousand_players_to_ten_thousand_rooms() throws Exception {
    Random random = new Random(100);
    Map<String, Integer> elo = new HashMap<>();
    List<List<Map<String, Object>>> batches = new ArrayList<>();
    for (int b = 0; b < PLAYERS / 1000; b++) {
      List<Map<String, Object>> batch = new ArrayList<>();
      for (int i = 0; i < 1000; i++) {
        String id = "bench-" + (b * 1000 + i);
        int rating = (int) (1500 + random.nextGaussian() * 300);
        elo.put(id, rating);
        batch.add(Map.of("playerId", id, "nickname", "b" + i, "elo", rating));
      }
      batches.add(batch);
    }
    long start = System.nanoTime();
    // A load generator sends its batches from a few clients at once, as the reference test did.
    var clients = java.util.concurrent.Executors.newFixedThreadPool(CLIENTS);
    try {
      List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
      for (List<Map<String, Object>> batch : batches) {
        sent.add(
            clients.submit(
                () ->
                    web.post()
                        .uri("/api/match/bulk")
                        .contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(Map.of("queue", "bench", "players", batch))
                        .exchange()
                        .expectStatus()
                        .isOk()));
      }
      for (var f : sent) {
        f.get();
      }
    } finally {
      clients.shutdown();
    }
    double enqueued = (System.nanoTime() - start) / 1e9;
    await()
        .atMost(Duration.ofMinutes(14))
        .pollInterval(Duration.ofMillis(100))
        .conditionEvaluationListener(
            c -> {
              if (c.getElapsedTimeInMS() / 100 % 50 == 0) {
                System.out.println(
                    "[matchmaking] "
                        + c.getElapsedTimeInMS() / 1000
                        + " s: "
                        + queues.counts("bench").block());
              }
            })
        .until(() -> queues.counts("bench").block().get("inGame") == PLAYERS);
    double wall = (System.nanoTime() - start) / 1e9;

    Map<String, String> assigned =
        redis
            .<String, String>opsForHash()
            .entries("{mq:bench}:assigned")
            .collectMap(e -> e.getKey(), e -> e.getValue())
            .block();
    Map<String, List<Integer>> byMatch = new HashMap<>();
    assigned.forEach(
        (p, v) ->
            byMatch.computeIfAbsent(v.split("\\|")[0], k -> new ArrayList<>()).add(elo.get(p)));
    List<Integer> spreads =
        byMatch.values().stream()
            .map(
                l ->
                    l.stream().max(Integer::compare).get() - l.stream().min(Integer::compare).get())
            .sorted()
            .toList();
    Timer timer = meters.find("citadel_match_enqueue_to_room_seconds").timer();
    double p50 = 0;
    double p99 = 0;
    for (ValueAtPercentile v : timer.takeSnapshot().percentileValues()) {
      if (v.percentile() == 0.5) {
        p50 = v.value(TimeUnit.MILLISECONDS);
      } else if (v.percentile() == 0.99) {
        p99 = v.value(TimeUnit.MILLISECONDS);
      }
    }
    long lost = PLAYERS - assigned.size();
    String report =
        String.format(
            Locale.ROOT,
            "### Matchmaking: %,d players -> %,d rooms%n%n| figure | value |%n|---|---|%n"
                + "| wall time, first enqueue to last room | %.2f s |%n| bulk enqueue | %.2f s |%n"
                + "| matches/s | %,.0f |%n| players lost | %d |%n| enqueue-to-room p50 / p99 | %.0f ms / %.0f ms |%n"
                + "| Elo spread per match p50 / p99 / max | %d / %d / %d |%n"
                + "| baseline: the reference write-up, ~420 s for the same count | %.1fx faster |%n",
            PLAYERS,
            byMatch.size(),
            wall,
            enqueued,
            byMatch.size() / wall,
            lost,
            p50,
            p99,
            spreads.get(spreads.size() / 2),
            spreads.get((int) (spreads.size() * 0.99)),
            spreads.get(spreads.size() - 1),
            REFERENCE_SECONDS / wall);
    System.out.println(report);
    Files.createDirectories(Path.of("target", "benchmarks"));
    Files.writeString(Path.of("target", "benchmarks", "matchmaking.md"), report);
    assertThat(lost).isZero();
    assertThat(byMatch).hasSize(PLAYERS / 10);
  }
}
