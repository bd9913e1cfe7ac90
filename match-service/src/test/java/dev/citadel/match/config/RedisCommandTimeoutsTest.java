package dev.citadel.match.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * match-service's Redis client as Spring Boot builds it with our customizer: a command on a stalled
 * Redis fails after {@code spring.data.redis.timeout} (Lettuce's default is a minute), while a
 * queue read whole (HGETALL) waits longer. Redis is stalled for real ({@code DEBUG SLEEP} on a
 * connection of its own).
 */
@CitadelInfra
class RedisCommandTimeoutsTest {
  final ApplicationContextRunner service =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  DataRedisAutoConfiguration.class, DataRedisReactiveAutoConfiguration.class))
          .withUserConfiguration(Timeouts.class)
          .withPropertyValues(
              "spring.data.redis.url=" + SharedInfra.redis().url(),
              "spring.data.redis.timeout=300ms");

  /** match-service's customizer, given the properties Spring Boot bound. */
  @org.springframework.context.annotation.Configuration(proxyBeanMethods = false)
  static class Timeouts {
    @org.springframework.context.annotation.Bean
    org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer
        redisCommandTimeouts(
            org.springframework.boot.data.redis.autoconfigure.DataRedisProperties redis) {
      return new MatchConfiguration().redisCommandTimeouts(redis);
    }
  }

  /** Stalls Redis for {@code seconds}, on a connection of its own; answers once it has begun. */
  static Mono<String> stall(int seconds) {
    return Mono.fromCallable(
            () -> {
              try (var lettuce =
                  io.lettuce.core.RedisClient.create(SharedInfra.redis().url()).connect()) {
                lettuce.setTimeout(Duration.ofSeconds(30));
                return lettuce
                    .sync()
                    .dispatch(
                        io.lettuce.core.protocol.CommandType.DEBUG,
                        new io.lettuce.core.output.StatusOutput<>(
                            io.lettuce.core.codec.StringCodec.UTF8),
                        new io.lettuce.core.protocol.CommandArgs<>(
                                io.lettuce.core.codec.StringCodec.UTF8)
                            .add("SLEEP")
                            .add(seconds));
              }
            })
        .subscribeOn(Schedulers.boundedElastic());
  }

  @Test
  void a_command_on_a_stalled_redis_times_out_but_a_whole_read_waits() {
    service.run(
        context -> {
          ReactiveStringRedisTemplate redis = context.getBean(ReactiveStringRedisTemplate.class);
          String key = "timeouts-" + UUID.randomUUID();
          redis.opsForHash().putAll(key, Map.of("ann", "1200")).block(Duration.ofSeconds(5));
          // Connected and warm before the stall, so only the command's own timeout is measured.
          assertThat(redis.opsForValue().get(key + "-x").blockOptional()).isEmpty();

          var stalled = stall(2).subscribe();
          try {
            // The stall has begun once a plain command waits past its timeout.
            org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(10))
                .until(
                    () -> {
                      try {
                        redis.opsForValue().get(key + "-x").block(Duration.ofSeconds(10));
                        return false;
                      } catch (RuntimeException timedOut) {
                        return timedOut.toString().contains("Timeout")
                            || String.valueOf(timedOut.getCause()).contains("Timeout");
                      }
                    });
            assertThat(
                    redis
                        .<String, String>opsForHash()
                        .entries(key)
                        .collectList()
                        .block(Duration.ofSeconds(30)))
                .hasSize(1);
          } finally {
            stalled.dispose();
          }
        });
  }
}
