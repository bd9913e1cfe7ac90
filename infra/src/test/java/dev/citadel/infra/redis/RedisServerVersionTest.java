package dev.citadel.infra.redis;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which {@code redis-server} on the PATH is new enough for the scripts (pure). */
class RedisServerVersionTest {
  @Test
  void a_server_at_or_above_six_two_is_used_and_an_older_or_silent_one_is_not() {
    assertThat(
            RedisServer.atLeast(
                "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64",
                RedisServer.MINIMUM))
        .isTrue();
    assertThat(RedisServer.atLeast("Redis server v=6.2.6 sha=00000000:0", RedisServer.MINIMUM))
        .isTrue();
    assertThat(RedisServer.atLeast("Redis server v=6.0.16 sha=00000000:0", RedisServer.MINIMUM))
        .isFalse();
    assertThat(RedisServer.atLeast("Redis server v=5.0.14 sha=00000000:0", RedisServer.MINIMUM))
        .isFalse();
    assertThat(RedisServer.atLeast("Redis server v=10.0.0", RedisServer.MINIMUM)).isTrue();
    assertThat(RedisServer.atLeast("java.io.IOException: Permission denied", RedisServer.MINIMUM))
        .isFalse();
  }
}
