package dev.citadel.messaging.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.messaging.Delivery;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A letter the producer refuses for its size goes without the record's value, saying so, instead of
 * failing the consumer for ever (a pure unit test: the producer's refusal is the one Kafka's client
 * gives past {@code max.request.size}).
 */
class DeadLettersTest {
  /** Refuses every message whose value is larger than {@code limit}; keeps what it sends. */
  static class Limited implements MessagePublisher {
    final int limit;
    final List<OutgoingMessage> sent = new CopyOnWriteArrayList<>();

    Limited(int limit) {
      this.limit = limit;
    }

    @Override
    public Mono<Delivery> publish(OutgoingMessage message) {
      if (message.value().length > limit) {
        return Mono.error(
            new RuntimeException(
                new RecordTooLargeException("The message is too large when serialized")));
      }
      sent.add(message);
      return Mono.just(new Delivery(message.topic(), 0, sent.size() - 1));
    }

    @Override
    public Flux<Delivery> publishAll(Flux<OutgoingMessage> messages) {
      return messages.concatMap(this::publish);
    }

    @Override
    public void close() {}
  }

  static IncomingMessage message(int size) {
    return new IncomingMessage("t", 2, 7, "k", new byte[size], Map.of("h", "v"));
  }

  @Test
  void a_letter_too_large_goes_without_its_value_saying_so() {
    Limited kafka = new Limited(100);
    new DeadLetters(kafka, new SimpleMeterRegistry())
        .setAside(message(1_000), new IllegalArgumentException("x".repeat(5_000)))
        .block(Duration.ofSeconds(5));

    assertThat(kafka.sent).hasSize(1);
    OutgoingMessage letter = kafka.sent.get(0);
    assertThat(letter.topic()).isEqualTo("t.dlq");
    assertThat(letter.key()).isEqualTo("k");
    assertThat(letter.value()).isEmpty();
    assertThat(letter.headers())
        .doesNotContainKey("h")
        .containsEntry(ReactorKafkaConsumer.ORIGIN_HEADER, "t-2@7")
        .containsKey(DeadLetters.VALUE_OMITTED_HEADER);
    assertThat(letter.headers().get(DeadLetters.VALUE_OMITTED_HEADER)).startsWith("1000 bytes");
    assertThat(letter.headers().get(ReactorKafkaConsumer.ERROR_HEADER))
        .hasSize(DeadLetters.MAX_ERROR_CHARS + 3);
  }

  @Test
  void a_letter_that_fits_goes_whole_and_any_other_refusal_fails_the_set_aside() {
    Limited kafka = new Limited(100);
    new DeadLetters(kafka, new SimpleMeterRegistry())
        .setAside(message(10), new IllegalArgumentException("bad"))
        .block(Duration.ofSeconds(5));
    assertThat(kafka.sent.get(0).value()).hasSize(10);
    assertThat(kafka.sent.get(0).headers()).doesNotContainKey(DeadLetters.VALUE_OMITTED_HEADER);

    MessagePublisher down =
        new Limited(100) {
          @Override
          public Mono<Delivery> publish(OutgoingMessage message) {
            return Mono.error(new IllegalStateException("Kafka unreachable"));
          }
        };
    assertThatThrownBy(
            () ->
                new DeadLetters(down, new SimpleMeterRegistry())
                    .setAside(message(10), new IllegalArgumentException("bad"))
                    .block(Duration.ofSeconds(5)))
        .hasMessageContaining("Kafka unreachable");
  }
}
