package dev.citadel.match.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.kafka.KafkaCluster;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.match.GameStateProcess;
import dev.citadel.match.queue.Queues;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.ArrayList;
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
 * Three Kafka brokers (replication 3, min.insync.replicas 2); one is stopped while matches are in
 * flight, and more players queue after it is gone. Every player still ends in exactly one match
 * with a room; none is lost, none left matched without a room.
 */
@CitadelInfra
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
@ActiveProfiles("loadtest")
// Its brokers are stopped at the end: a cached context would keep a producer retrying them.
@org.springframework.test.annotation.DirtiesContext(
    classMode = org.springframework.test.annotation.DirtiesContext.ClassMode.AFTER_CLASS)
class MatchBrokerFailureTest {
  /** A load test's token for the bulk route. */
  static final java.util.function.Supplier<String> BULK =
      () -> TestIdentity.shared().service("loadtest", "match-service", "match.bulk");

  static KafkaCluster kafka;
  static ServiceProcess gameState;

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    TestIdentity.shared()
        .serviceProperties("match-service")
        .forEach((k, v) -> registry.add(k, () -> v));
    registry.add("spring.data.redis.url", () -> SharedInfra.redis().url());
    registry.add("citadel.kafka.bootstrap-servers", () -> kafka.endpoint().bootstrapServers());
    registry.add("citadel.match.queues", () -> "brokers");
    registry.add("citadel.match.room-timeout", () -> "20s");
  }

  @BeforeAll
  static void start() throws Exception {
    kafka = KafkaCluster.startLocal(3);
    gameState =
        GameStateProcess.start("game-state-brokers", "game_state_brokers", kafka.endpoint());
  }

  @AfterAll
  static void stop() {
    if (gameState != null) {
      gameState.stop(Duration.ofSeconds(20));
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Autowired WebTestClient web;
  @Autowired Queues queues;
  @Autowired ReactiveStringRedisTemplate redis;

  @Test
  void a_broker_of_three_stopped_mid_run_loses_and_duplicates_no_player() {
    Random random = new Random(3);
    enqueue(0, 3000, random);
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> queues.counts("brokers").block().get("inGame") >= 500);

    kafka.stopBroker(kafka.brokerIds().get(0));
    enqueue(3000, 2000, random); // sent while the broker is gone

    int players = 5000;
    await()
        .atMost(Duration.ofSeconds(180))
        .until(() -> queues.counts("brokers").block().get("inGame") == players);
    assertThat(queues.counts("brokers").block())
        .containsEntry("waiting", 0L)
        .containsEntry("matched", 0L);

    Assignments a = Assignments.read(redis, "brokers");
    assertThat(a.assigned()).hasSize(players);
    assertThat(a.playersByMatch()).hasSize(players / 10);
    a.playersByMatch().values().forEach(p -> assertThat(p).hasSize(10));
    assertThat(a.rooms()).as("every match its own room").hasSize(players / 10);
  }

  private void enqueue(int from, int count, Random random) {
    for (int start = from; start < from + count; start += 1000) {
      List<Map<String, Object>> body = new ArrayList<>();
      for (int i = start; i < start + 1000; i++) {
        body.add(
            Map.of(
                "playerId",
                "broker-" + i,
                "nickname",
                "k" + i,
                "elo",
                (int) (1500 + random.nextGaussian() * 150)));
      }
      web.post()
          .uri("/internal/match/bulk")
          .headers(h -> h.setBearerAuth(BULK.get()))
          .contentType(MediaType.APPLICATION_JSON)
          .bodyValue(Map.of("queue", "brokers", "players", body))
          .exchange()
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.queued")
          .isEqualTo(1000);
    }
  }
}
