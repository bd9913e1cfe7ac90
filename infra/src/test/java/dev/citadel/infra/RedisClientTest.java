package dev.citadel.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.redis.RedisEndpoint;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveRedisTemplate;
import org.springframework.data.redis.core.ZSetOperations.TypedTuple;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.data.redis.serializer.RedisSerializationContext;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The real Redis through the reactive client the services use (Lettuce + ReactiveRedisTemplate).
 */
@CitadelInfra
class RedisClientTest {
  static LettuceConnectionFactory factory;
  static ReactiveRedisTemplate<String, String> redis;

  @BeforeAll
  static void connect(RedisEndpoint endpoint) {
    factory =
        new LettuceConnectionFactory(
            new RedisStandaloneConfiguration(endpoint.host(), endpoint.port()));
    factory.afterPropertiesSet();
    redis = new ReactiveRedisTemplate<>(factory, RedisSerializationContext.string());
  }

  @AfterAll
  static void disconnect() {
    factory.destroy();
  }

  @BeforeEach
  void flush() {
    redis.execute(c -> c.serverCommands().flushAll()).blockLast();
  }

  @Test
  void zadd_then_zpopmin_with_count_pops_the_lowest_scores_in_order() {
    var queue = redis.opsForZSet();
    Flux<Boolean> adds =
        Flux.range(1, 25).flatMap(i -> queue.add("{q}:queue", "p" + i, 1000 + (i * 7 % 25)));
    StepVerifier.create(adds.count()).expectNext(25L).verifyComplete();

    List<TypedTuple<String>> popped = queue.popMin("{q}:queue", 10).collectList().block();

    assertThat(popped).hasSize(10);
    assertThat(popped).extracting(TypedTuple::getScore).isSorted();
    assertThat(queue.size("{q}:queue").block()).isEqualTo(15L);
    Double lowestLeft =
        queue.rangeWithScores("{q}:queue", Range.closed(0L, 0L)).blockFirst().getScore();
    assertThat(popped.get(9).getScore()).isLessThanOrEqualTo(lowestLeft);
  }

  @Test
  void set_nx_px_acquires_once_and_expires() {
    var ops = redis.opsForValue();
    assertThat(ops.setIfAbsent("{q}:lock", "owner-1", Duration.ofMillis(300)).block()).isTrue();
    assertThat(ops.setIfAbsent("{q}:lock", "owner-2", Duration.ofMillis(300)).block()).isFalse();
    assertThat(redis.getExpire("{q}:lock").block()).isPositive();
    // Wait on the condition (the key expiring), not on a clock.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> !redis.hasKey("{q}:lock").block());
    assertThat(ops.setIfAbsent("{q}:lock", "owner-2", Duration.ofMillis(300)).block()).isTrue();
  }

  @Test
  void lua_compare_and_delete_releases_only_for_the_owner() {
    RedisScript<Long> release =
        RedisScript.of(
            "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"
                + " return 0",
            Long.class);
    redis.opsForValue().set("{q}:lock", "owner-1").block();

    assertThat(redis.execute(release, List.of("{q}:lock"), List.of("intruder")).blockFirst())
        .isZero();
    assertThat(redis.hasKey("{q}:lock").block()).isTrue();
    assertThat(redis.execute(release, List.of("{q}:lock"), List.of("owner-1")).blockFirst())
        .isEqualTo(1L);
    assertThat(redis.hasKey("{q}:lock").block()).isFalse();
  }

  @Test
  void execute_in_session_runs_several_commands_on_one_connection() {
    Flux<Object> session =
        redis.executeInSession(
            s ->
                s.opsForZSet()
                    .add("{q}:s", "a", 1)
                    .then(s.opsForZSet().add("{q}:s", "b", 2))
                    .then(s.opsForHash().put("{q}:h", "a", "nick-a"))
                    .thenMany(s.opsForZSet().popMin("{q}:s", 2).map(Object.class::cast)));

    List<Object> popped = session.collectList().block();

    assertThat(popped).hasSize(2);
    assertThat(redis.opsForHash().get("{q}:h", "a").block()).isEqualTo("nick-a");
    assertThat(redis.opsForZSet().size("{q}:s").block()).isZero();
  }
}
