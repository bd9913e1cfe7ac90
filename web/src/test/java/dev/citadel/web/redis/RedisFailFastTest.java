package dev.citadel.web.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.redis.RedisServer;
import dev.citadel.web.problem.Problems;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisReactiveAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.http.HttpStatus;

/**
 * A service's Redis client with Redis gone: a command is refused at once (a 503 for its caller),
 * not kept until the connection is back or the command times out (a minute here: the timeout is set
 * long so that only a refusal can end the wait this test makes).
 */
class RedisFailFastTest {

  @Test
  void every_service_that_talks_to_redis_gets_it() {
    assertThat(
            org.springframework.boot.context.annotation.ImportCandidates.load(
                    org.springframework.boot.autoconfigure.AutoConfiguration.class,
                    getClass().getClassLoader())
                .getCandidates())
        .contains(RedisFailFastAutoConfiguration.class.getName());
  }

  @Test
  void a_command_while_redis_is_away_is_refused_at_once_as_a_503() {
    int port = FreePorts.next();
    RedisServer redis = RedisServer.start(InfraSettings.local(), port);
    new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                DataRedisAutoConfiguration.class,
                DataRedisReactiveAutoConfiguration.class,
                RedisFailFastAutoConfiguration.class))
        .withPropertyValues(
            "spring.data.redis.url=redis://127.0.0.1:" + port, "spring.data.redis.timeout=60s")
        .run(
            context -> {
              ReactiveStringRedisTemplate redisTemplate =
                  context.getBean(ReactiveStringRedisTemplate.class);
              assertThat(redisTemplate.opsForValue().set("k", "v").block(Duration.ofSeconds(10)))
                  .isTrue();
              redis.close();

              // Once the client has seen the connection close, every command fails at once.
              Throwable[] refused = new Throwable[1];
              Awaitility.await()
                  .atMost(Duration.ofSeconds(20))
                  .until(
                      () -> {
                        try {
                          redisTemplate.opsForValue().get("k").block(Duration.ofSeconds(5));
                          return false;
                        } catch (RuntimeException e) {
                          refused[0] = e;
                          return String.valueOf(rootMessage(e))
                              .startsWith("Currently not connected");
                        }
                      });
              assertThat(Problems.of(refused[0]).orElseThrow().status())
                  .isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
            });
  }

  static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage();
  }
}
