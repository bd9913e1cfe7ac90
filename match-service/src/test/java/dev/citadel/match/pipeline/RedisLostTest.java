package dev.citadel.match.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.infra.redis.RedisServer;
import dev.citadel.match.GameStateProcess;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.queue.Queues;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Redis restarts with its data lost (no persistence, a failover to an empty replica): every queue,
 * pending match, lock and unsent presence change is gone. Players who were waiting must be able to
 * queue again at once, and the matcher and the presence relay must go on by themselves.
 */
@CitadelInfra
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
// Its context must not outlive the class: it is a member of the lifecycle consumer group, and its
// Redis is gone after the class.
@org.springframework.test.annotation.DirtiesContext(
    classMode = org.springframework.test.annotation.DirtiesContext.ClassMode.AFTER_CLASS)
class RedisLostTest {
  static final int PORT = FreePorts.next();
  static RedisServer redisServer = RedisServer.start(InfraSettings.local(), PORT);
  static ServiceProcess gameState;

  @BeforeAll
  static void startGameState() throws Exception {
    gameState = GameStateProcess.start("game-state-redis-lost", "game_state_redis_lost");
  }

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    TestIdentity.shared()
        .serviceProperties("match-service")
        .forEach((k, v) -> registry.add(k, () -> v));
    registry.add("spring.data.redis.url", () -> redisServer.endpoint().url());
    registry.add("citadel.kafka.bootstrap-servers", () -> SharedInfra.kafka().bootstrapServers());
    registry.add("citadel.match.queues", () -> "ranked,casual");
    // The first instance is down (nothing listens there): every question goes on to the next
    // (the stale seat's check asked the first alone and refused the player as in a game).
    registry.add(
        "citadel.match.game-state-urls",
        () -> "http://127.0.0.1:" + FreePorts.next() + "," + gameState.url());
  }

  @AfterAll
  static void stop() {
    try {
      redisServer.close();
    } finally {
      if (gameState != null) {
        gameState.stop(Duration.ofSeconds(20));
      }
    }
  }

  @Autowired WebTestClient web;
  @Autowired Queues queues;
  @Autowired ReactiveStringRedisTemplate redis;

  WebTestClient.ResponseSpec join(String player, String queue) {
    return web.post()
        .uri("/api/match/queue")
        .headers(h -> h.setBearerAuth(TestIdentity.shared().player(player)))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(Map.of("queue", queue))
        .exchange();
  }

  String state(String player, String queue) {
    return queues.status(queue, player).block().state().name();
  }

  /**
   * A seat whose end Redis lost (a failover to a replica behind, a restart that lost the last
   * second of writes): nothing ever sends that end again, and the player was refused as "in a game"
   * for good. Joining asks game-state about the seat's match: not in a room there, the seat goes; a
   * live match's seat stays.
   */
  @Test
  void a_seat_whose_end_was_lost_lets_its_player_queue_and_a_live_seat_does_not() {
    String stale = "seat-" + UUID.randomUUID();
    String gone = "never-placed-" + UUID.randomUUID();
    redis.opsForHash().put("{mq}:ranked:assigned", stale, gone + "|1|1").block();
    join(stale, "ranked")
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.state")
        .isEqualTo("WAITING");
    queues.cancel("ranked", stale).block();

    long now = System.currentTimeMillis();
    List<Ticket> ten = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ten.add(new Ticket("live-" + UUID.randomUUID(), 1500, now, "n"));
    }
    queues.enqueue("ranked", ten, now).block();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> ten.stream().allMatch(t -> "IN_GAME".equals(state(t.playerId(), "ranked"))));
    join(ten.get(0).playerId(), "ranked").expectStatus().isEqualTo(409);
    assertThat(state(ten.get(0).playerId(), "ranked")).isEqualTo("IN_GAME");
    // Nor may a player in a live game queue anywhere else.
    join(ten.get(0).playerId(), "casual").expectStatus().isEqualTo(409);
  }

  /**
   * The same lost end, the player now queueing in another queue: the stale seat there refused them
   * ("already in queue ranked") for good, unchecked. A player waiting in the other queue is still
   * refused (one queue at a time).
   */
  @Test
  void a_seat_whose_end_was_lost_in_another_queue_lets_its_player_queue_here() {
    String stale = "seat-" + UUID.randomUUID();
    redis
        .opsForHash()
        .put("{mq}:ranked:assigned", stale, "never-placed-" + UUID.randomUUID() + "|1|1")
        .block();
    join(stale, "casual")
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.state")
        .isEqualTo("WAITING");
    assertThat(state(stale, "ranked")).isEqualTo("NOT_QUEUED");
    join(stale, "ranked").expectStatus().isEqualTo(409);
    queues.cancel("casual", stale).block();
  }

  /**
   * A join that landed but whose reply was lost (the client tries again, or Lettuce sends the
   * script again after a reconnect) answers where the player stands, as the first did: it was 409
   * "already queued" for a join that had worked.
   */
  @Test
  void a_join_repeated_answers_where_the_player_stands() {
    String player = "twice-" + UUID.randomUUID();
    for (int i = 0; i < 2; i++) {
      join(player, "casual")
          .expectStatus()
          .isOk()
          .expectBody()
          .jsonPath("$.state")
          .isEqualTo("WAITING");
    }
    queues.cancel("casual", player).block();
  }

  @Test
  void after_redis_lost_its_data_waiting_players_queue_again_and_matching_goes_on() {
    List<String> waiting = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String p = "lost-" + UUID.randomUUID();
      waiting.add(p);
      join(p, "ranked").expectStatus().isOk();
    }
    // Their presence changes were relayed (the stream is drained): member-service now believes
    // they are QUEUED, and nothing will tell it otherwise until they move again.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> redis.opsForStream().size(Queues.PRESENCE_STREAM).block() == 0);

    redisServer.close();
    redisServer = RedisServer.start(InfraSettings.local(), PORT);

    // Their places are gone: they are in no queue, and may join any queue again.
    await()
        .atMost(Duration.ofSeconds(30))
        .ignoreExceptions()
        .until(() -> "NOT_QUEUED".equals(state(waiting.get(0), "ranked")));
    for (String p : waiting) {
      join(p, "casual").expectStatus().isOk().expectBody().jsonPath("$.state").isEqualTo("WAITING");
    }
    join(waiting.get(0), "ranked").expectStatus().isEqualTo(409);

    // The matcher takes its lost lock again and matches; the relay sends the new changes.
    long now = System.currentTimeMillis();
    List<Ticket> ten = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ten.add(new Ticket("after-" + UUID.randomUUID(), 1500, now, "n"));
    }
    queues.enqueue("ranked", ten, now).block();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> ten.stream().allMatch(t -> "MATCHED".equals(state(t.playerId(), "ranked"))));
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> redis.opsForStream().size(Queues.PRESENCE_STREAM).block() == 0);
  }
}
