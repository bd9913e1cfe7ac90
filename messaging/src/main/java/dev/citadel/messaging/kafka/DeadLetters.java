package dev.citadel.messaging.kafka;

import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Sets aside a message no handler can ever take, in {@code <topic>.dlq} with the error and where it
 * came from, counted in {@code citadel_dead_letters_total}.
 */
final class DeadLetters {
  private static final Logger log = LoggerFactory.getLogger(DeadLetters.class);
  private final MessagePublisher publisher;
  private final MeterRegistry meters;

  DeadLetters(MessagePublisher publisher, MeterRegistry meters) {
    this.publisher = publisher;
    this.meters = meters;
  }

  /** Publishes the message to {@code <topic>.dlq} with why; fails when that publish fails. */
  Mono<Void> setAside(IncomingMessage message, Throwable error) {
    Throwable cause = error.getCause() != null ? error.getCause() : error;
    log.error(
        "{}-{}@{} can never be handled, dead-lettering: {}",
        message.topic(),
        message.partition(),
        message.offset(),
        error.getMessage(),
        cause);
    Map<String, String> headers = new HashMap<>(message.headers());
    headers.put(ReactorKafkaConsumer.ERROR_HEADER, String.valueOf(error.getMessage()));
    headers.put(
        ReactorKafkaConsumer.ORIGIN_HEADER,
        message.topic() + "-" + message.partition() + "@" + message.offset());
    // A record without a key or value: an empty one in the letter, and a header saying so (a
    // replay sends it back as it came, to be set aside again).
    if (message.key() == null) {
      headers.put(ReactorKafkaConsumer.NULL_KEY_HEADER, "true");
    }
    if (message.value() == null) {
      headers.put(ReactorKafkaConsumer.NULL_VALUE_HEADER, "true");
    }
    return Mono.defer(
            () ->
                publisher.publish(
                    new OutgoingMessage(
                        message.topic() + ReactorKafkaConsumer.DEAD_LETTER_SUFFIX,
                        message.key() != null ? message.key() : "",
                        message.value() != null ? message.value() : new byte[0],
                        headers)))
        .doOnSuccess(
            d ->
                Counter.builder("citadel_dead_letters")
                    .description("Messages set aside as unprocessable, by origin topic")
                    .tag("topic", message.topic())
                    .register(meters)
                    .increment())
        .then();
  }
}
