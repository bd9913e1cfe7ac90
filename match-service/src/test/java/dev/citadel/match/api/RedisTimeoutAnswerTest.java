package dev.citadel.match.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.web.problem.Problems;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

/** A Redis command that timed out is a 503 to try again, not a 500 "internal error". */
class RedisTimeoutAnswerTest {
  @Test
  void a_redis_command_timeout_is_503_with_retry_after() {
    for (Throwable timeout :
        new Throwable[] {
          new org.springframework.dao.QueryTimeoutException("Redis command timed out"),
          new io.lettuce.core.RedisCommandTimeoutException("Command timed out after 1 second(s)")
        }) {
      var answer = Problems.of(new RuntimeException(timeout)).orElseThrow();
      assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
      assertThat(answer.headers().getFirst("Retry-After")).isEqualTo("1");
    }
  }
}
