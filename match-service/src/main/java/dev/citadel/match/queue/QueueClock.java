package dev.citadel.match.queue;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The queues' time: Redis's clock, the one every replica shares. A wait, a ticket's age and a
 * pending match's deadline are written by one replica and read by another (a deadline set by the
 * matcher here is judged by the expiry there), so they must come from one clock: a replica whose
 * own clock ran seconds ahead cancelled matches as unanswered before their time, and widened every
 * skill window early. Read as this machine's clock plus an offset to Redis's {@code TIME}, measured
 * every {@link #EVERY} from a round trip short enough to trust ({@link #MAX_ROUND_TRIP}); until the
 * first measure, and while Redis cannot be reached, the last offset stands (none: the local clock).
 */
public final class QueueClock {
  private static final Logger log = LoggerFactory.getLogger(QueueClock.class);
  static final Duration EVERY = Duration.ofSeconds(5);
  static final long MAX_ROUND_TRIP = 50;

  private final ReactiveStringRedisTemplate redis;
  private final Clock local;
  private volatile long offsetMs;

  public QueueClock(ReactiveStringRedisTemplate redis, Clock local, MeterRegistry meters) {
    this.redis = redis;
    this.local = local;
    Gauge.builder("citadel_queue_clock_offset_seconds", this, c -> c.offsetMs / 1000.0)
        .description("Redis's clock minus this replica's: the queues keep Redis's time")
        .register(meters);
  }

  /** Milliseconds since the epoch by Redis's clock. */
  public long millis() {
    return local.millis() + offsetMs;
  }

  /** The same time as a {@link Clock}. */
  public Clock asClock() {
    return new Clock() {
      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException("the queues' clock is UTC");
      }

      @Override
      public long millis() {
        return QueueClock.this.millis();
      }

      @Override
      public Instant instant() {
        return Instant.ofEpochMilli(millis());
      }
    };
  }

  /**
   * Measures the offset once: half-way through the round trip Redis read its clock. A slow round
   * trip (a busy Redis, a pause here) says too little and is not taken. The offset now.
   */
  public Mono<Long> align() {
    return Mono.defer(
        () -> {
          long sent = local.millis();
          return redis
              .execute(connection -> connection.serverCommands().time())
              .next()
              .map(
                  redisMs -> {
                    long back = local.millis();
                    if (back - sent <= MAX_ROUND_TRIP) {
                      offsetMs = redisMs - (sent + back) / 2;
                    }
                    return offsetMs;
                  });
        });
  }

  /** Aligns now and every {@link #EVERY} until disposed. */
  public Disposable start() {
    return Flux.interval(Duration.ZERO, EVERY)
        .onBackpressureDrop()
        .concatMap(
            t ->
                align()
                    .timeout(EVERY)
                    .onErrorResume(
                        e -> {
                          log.debug("queue clock not aligned, keeps its offset: {}", e.toString());
                          return Mono.empty();
                        }),
            1)
        .subscribe();
  }
}
