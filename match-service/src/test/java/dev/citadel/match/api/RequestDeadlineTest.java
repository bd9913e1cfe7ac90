package dev.citadel.match.api;

import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.redis.RedisServer;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * A leave on a Redis that stalls answers 503 at the request's deadline, not when Redis comes back
 * (nor 504 from the gateway in front). Redis of its own, paused for real ({@code CLIENT PAUSE}).
 */
@CitadelInfra
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
@org.springframework.test.annotation.DirtiesContext(
    classMode = org.springframework.test.annotation.DirtiesContext.ClassMode.AFTER_CLASS)
class RequestDeadlineTest {
  static final int PORT = FreePorts.next();
  static RedisServer redisServer = RedisServer.start(InfraSettings.local(), PORT);

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    TestIdentity.shared()
        .serviceProperties("match-service")
        .forEach((k, v) -> registry.add(k, () -> v));
    registry.add("spring.data.redis.url", () -> redisServer.endpoint().url());
    registry.add("citadel.kafka.bootstrap-servers", () -> SharedInfra.kafka().bootstrapServers());
    registry.add("citadel.match.queues", () -> "ranked");
    registry.add("citadel.match.request-deadline", () -> "1s");
  }

  @AfterAll
  static void stop() {
    redisServer.close();
  }

  @Autowired WebTestClient web;

  WebTestClient.ResponseSpec leave(String player) {
    return web.mutate()
        .responseTimeout(Duration.ofSeconds(30))
        .build()
        .delete()
        .uri("/api/match/queue?queue=ranked")
        .headers(h -> h.setBearerAuth(TestIdentity.shared().player(player)))
        .exchange();
  }

  @Test
  void a_leave_on_a_stalled_redis_is_503_at_the_deadline() {
    String player = "p-" + UUID.randomUUID();
    leave(player).expectStatus().isNotFound(); // not queued: Redis answers

    try (var client = io.lettuce.core.RedisClient.create(redisServer.endpoint().url());
        var lettuce = client.connect()) {
      // Every client's commands wait 4 s (longer than the deadline, shorter than the 5 s command
      // timeout): only the deadline can end the request before Redis answers.
      lettuce
          .sync()
          .dispatch(
              io.lettuce.core.protocol.CommandType.CLIENT,
              new io.lettuce.core.output.StatusOutput<>(io.lettuce.core.codec.StringCodec.UTF8),
              new io.lettuce.core.protocol.CommandArgs<>(io.lettuce.core.codec.StringCodec.UTF8)
                  .add("PAUSE")
                  .add(4_000)
                  .add("ALL"));
      leave(player).expectStatus().isEqualTo(503).expectHeader().valueEquals("Retry-After", "1");
    }
  }
}
