package dev.citadel.match.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.Delivery;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.protocol.match.v1.MatchFound;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The expiry's re-send of an unanswered match, when Redis's reply to moving it on is lost. */
@CitadelInfra
class ExpiryTest {
  static LettuceConnectionFactory factory;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
  }

  @AfterAll
  static void close() {
    factory.destroy();
  }

  /** Redis whose next reply to the script that moves a match on is lost after the script ran. */
  static final class LosingReplies extends ReactiveStringRedisTemplate {
    final AtomicBoolean loseNext = new AtomicBoolean();

    LosingReplies() {
      super(factory);
    }

    @Override
    public <T> Flux<T> execute(RedisScript<T> script, List<String> keys, List<?> args) {
      Flux<T> real = super.execute(script, keys, args);
      return Flux.defer(
          () ->
              script.getScriptAsString().contains("one more try") && loseNext.getAndSet(false)
                  ? real.collectList()
                      .thenMany(Flux.error(new QueryTimeoutException("reply lost (injected)")))
                  : real);
    }
  }

  /**
   * The script that moves an overdue match to its second attempt ran, and its reply was lost (a
   * timeout): asked again, it answers what it did, and the match is re-sent. It answered 0 (no
   * longer at the attempt seen), the re-send was skipped, and game-state was asked to cancel a
   * match it could still have placed.
   */
  @Test
  void a_re_send_whose_reply_was_lost_is_still_sent() {
    String queue = "expiry-" + UUID.randomUUID();
    LosingReplies redis = new LosingReplies();
    Queues queues = new Queues(redis, List.of(queue));
    long now = System.currentTimeMillis();
    List<Ticket> tickets =
        IntStream.range(0, 10)
            .mapToObj(i -> new Ticket("p-" + UUID.randomUUID(), 1500, now - 5_000, "n" + i))
            .toList();
    queues.enqueue(queue, tickets, now - 5_000).block();
    // Popped, and its first send never reached Kafka: overdue at attempt 1.
    String matchId =
        queues
            .popAll(queue, List.of(tickets.stream().map(Ticket::playerId).toList()), now, now - 1)
            .block()
            .get(0)
            .orElseThrow();
    List<MatchFound> sent = new CopyOnWriteArrayList<>();
    MessagePublisher recording =
        new MessagePublisher() {
          @Override
          public Mono<Delivery> publish(OutgoingMessage m) {
            return Mono.fromCallable(
                () -> {
                  sent.add(MatchFound.parseFrom(m.value()));
                  return new Delivery(m.topic(), 0, sent.size());
                });
          }

          @Override
          public Flux<Delivery> publishAll(Flux<OutgoingMessage> messages) {
            return messages.concatMap(this::publish);
          }

          @Override
          public void close() {}
        };
    Expiry expiry =
        new Expiry(
            queues,
            new HandOff(recording, "match.found", new SimpleMeterRegistry()),
            Clock.systemUTC(),
            Duration.ofSeconds(30),
            new SimpleMeterRegistry());

    redis.loseNext.set(true);
    expiry.expire(queue).onErrorResume(e -> Mono.just(0)).block(Duration.ofSeconds(10));
    expiry.expire(queue).block(Duration.ofSeconds(10)); // not due again: nothing more

    assertThat(sent).hasSize(1);
    assertThat(sent.get(0).getMatchId()).isEqualTo(matchId);
    assertThat(sent.get(0).getAttempt()).isEqualTo(2);
    assertThat(sent.get(0).getCancel()).isFalse();
  }
}
