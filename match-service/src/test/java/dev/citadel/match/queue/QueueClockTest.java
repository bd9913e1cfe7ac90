package dev.citadel.match.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/**
 * Two replicas whose own clocks are an hour apart keep the queues' time together: both read Redis's
 * (the same machine's here, so the local clock tells what Redis's is).
 */
@CitadelInfra
class QueueClockTest {

  @Test
  void replicas_with_clocks_far_apart_agree_on_the_queues_time_once_aligned() {
    LettuceConnectionFactory factory =
        new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    try {
      ReactiveStringRedisTemplate redis = new ReactiveStringRedisTemplate(factory);
      QueueClock ahead =
          new QueueClock(
              redis,
              Clock.offset(Clock.systemUTC(), Duration.ofHours(1)),
              new SimpleMeterRegistry());
      QueueClock behind =
          new QueueClock(
              redis,
              Clock.offset(Clock.systemUTC(), Duration.ofHours(-1)),
              new SimpleMeterRegistry());
      assertThat(ahead.millis() - behind.millis())
          .isGreaterThan(Duration.ofMinutes(119).toMillis());

      // A round trip may be too slow to trust on a busy machine: align until one is taken.
      for (int i = 0; i < 100 && Math.abs(ahead.align().block()) < 1000; i++) {}
      for (int i = 0; i < 100 && Math.abs(behind.align().block()) < 1000; i++) {}

      assertThat(Math.abs(ahead.millis() - behind.millis())).isLessThan(1_000);
      assertThat(Math.abs(ahead.asClock().millis() - System.currentTimeMillis())).isLessThan(1_000);
    } finally {
      factory.destroy();
    }
  }
}
