package dev.citadel.match.matcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.SkillWindow;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.web.lifecycle.GracefulLoop;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/**
 * A tick that takes as many matches as it may is followed at once by another, so a small bound per
 * tick keeps ticks short without leaving a crowd waiting for the next interval; a queue that stays
 * full yields to the others after {@link Matcher#TICKS_IN_A_ROW}.
 */
@CitadelInfra
class TickWhileFullTest {
  static final Duration LONG = Duration.ofMinutes(1);
  static LettuceConnectionFactory factory;
  static Queues queues;
  static ReactorKafkaPublisher publisher;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    queues = new Queues(new ReactiveStringRedisTemplate(factory));
    publisher =
        new ReactorKafkaPublisher(
            KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "tick-while-full"));
  }

  @AfterAll
  static void close() {
    publisher.close();
    factory.destroy();
  }

  static Matcher matcher(int maxPerTick) {
    return new Matcher(
        queues,
        new HandOff(publisher, "match.found.tick-while-full", new SimpleMeterRegistry()),
        new Matcher.Settings(
            10,
            new SkillWindow(100, 25, 1000, 60_000),
            Duration.ofMinutes(5),
            Duration.ofSeconds(30),
            maxPerTick),
        Clock.systemUTC(),
        new SimpleMeterRegistry());
  }

  /**
   * A matcher stopped with its service (a rolling deploy) finishes its tick and gives its queues'
   * locks back before the service closes Redis, so the next replica's matcher takes over at its
   * next tick, not after the lock's time to live (10 s in production: that long without a match).
   */
  @Test
  void a_matcher_stopped_gracefully_gives_its_queues_up_before_it_is_done() {
    String queue = "stop-" + UUID.randomUUID();
    String lock = "{mq}:" + queue + ":matcher-lock";
    ReactiveStringRedisTemplate redis = new ReactiveStringRedisTemplate(factory);
    GracefulLoop running = matcher(10).start(List.of(queue), Duration.ofMillis(20));
    try {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> Boolean.TRUE.equals(redis.hasKey(lock).block()));
      running.stopGracefully().block(Duration.ofSeconds(10));
      assertThat(redis.hasKey(lock).block()).isFalse();
      assertThat(queues.lock(queue, "next-replica", LONG).block()).isTrue();
    } finally {
      running.dispose();
    }
  }

  static void enqueue(String queue, int players) {
    List<Ticket> same =
        IntStream.range(0, players)
            .mapToObj(i -> new Ticket("full-" + UUID.randomUUID(), 1500, 0, "n"))
            .toList();
    queues.enqueue(queue, same, System.currentTimeMillis()).block();
  }

  /**
   * After game-state refused a match for want of a free room, the queue forms none for a moment:
   * its players are back with their place, and the next tick would form the same match again, to be
   * refused again, for as long as every room is taken.
   */
  @Test
  void a_queue_held_off_forms_no_matches_until_the_hold_lapses() {
    String queue = "held-off-" + UUID.randomUUID();
    enqueue(queue, 10);
    queues.holdOff(queue, Duration.ofMinutes(1)).block();
    Matcher matcher = matcher(5);
    assertThat(matcher.tick(queue).block()).isZero();
    assertThat(queues.counts(queue).block()).containsEntry("waiting", 10L);
    queues.holdOff(queue, Duration.ofMillis(1)).block();
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !queues.heldOff(queue).block());
    assertThat(matcher.tick(queue).block()).isEqualTo(1);
  }

  /**
   * Kafka that does not acknowledge (a broker in trouble): a tick waits for the last tick's sends
   * only so long, then carries them over, so the ticks (and the lock renewals they make) go on.
   */
  @Test
  void a_tick_waits_for_the_last_ticks_sends_only_so_long() {
    String queue = "unacknowledged-" + UUID.randomUUID();
    dev.citadel.messaging.MessagePublisher silent =
        new dev.citadel.messaging.MessagePublisher() {
          @Override
          public reactor.core.publisher.Mono<dev.citadel.messaging.Delivery> publish(
              dev.citadel.messaging.OutgoingMessage message) {
            return reactor.core.publisher.Mono.never();
          }

          @Override
          public reactor.core.publisher.Flux<dev.citadel.messaging.Delivery> publishAll(
              reactor.core.publisher.Flux<dev.citadel.messaging.OutgoingMessage> messages) {
            return reactor.core.publisher.Flux.never();
          }

          @Override
          public void close() {}
        };
    Matcher matcher =
        new Matcher(
            queues,
            new HandOff(silent, "match.found.unacknowledged", new SimpleMeterRegistry()),
            new Matcher.Settings(
                10,
                new SkillWindow(100, 25, 1000, 60_000),
                Duration.ofMinutes(5),
                Duration.ofSeconds(2),
                5),
            Clock.systemUTC(),
            new SimpleMeterRegistry());
    enqueue(queue, 10);
    assertThat(matcher.tick(queue).block(Duration.ofSeconds(10))).isEqualTo(1);
    enqueue(queue, 10);
    // Waits up to half a second (a quarter of the 2 s lock) for the first tick's send, not for it.
    assertThat(matcher.tick(queue).block(Duration.ofSeconds(10))).isEqualTo(1);
    assertThat(matcher.tick(queue).block(Duration.ofSeconds(10))).isZero();
  }

  @Test
  void full_ticks_are_followed_at_once_until_one_is_not() {
    String queue = "full-" + UUID.randomUUID();
    enqueue(queue, 50); // five matches' worth
    List<Integer> ticks = matcher(2).tickWhileFull(queue, LONG).collectList().block();
    assertThat(ticks).containsExactly(2, 2, 1);
    assertThat(queues.counts(queue).block()).containsEntry("waiting", 0L);
  }

  @Test
  void a_queue_that_stays_full_yields_after_so_many_ticks_in_a_row() {
    String queue = "crowd-" + UUID.randomUUID();
    enqueue(queue, 10 * (Matcher.TICKS_IN_A_ROW + 3));
    List<Integer> ticks = matcher(1).tickWhileFull(queue, LONG).collectList().block();
    assertThat(ticks).isEqualTo(Collections.nCopies(Matcher.TICKS_IN_A_ROW, 1));
    assertThat(queues.counts(queue).block()).containsEntry("waiting", 30L);
  }

  /** Past its time the run ends after the tick under way, however full. */
  @Test
  void a_run_ends_when_its_time_is_up() {
    String queue = "slow-" + UUID.randomUUID();
    enqueue(queue, 100);
    List<Integer> ticks = matcher(1).tickWhileFull(queue, Duration.ZERO).collectList().block();
    assertThat(ticks).containsExactly(1);
    assertThat(queues.counts(queue).block()).containsEntry("waiting", 90L);
  }
}
