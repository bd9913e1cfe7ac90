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
 *
 * <p>A letter too large for the producer (a record near the size limit, plus the letter's headers)
 * goes without the record's value and headers, saying so ({@value #VALUE_OMITTED_HEADER}: the
 * record stays at its origin for as long as that topic keeps it; such a letter is never replayed):
 * refused for good, it failed the consumer, which restarted, met the same record and failed again,
 * for ever, rebalancing its whole group each time.
 */
final class DeadLetters {
  /** On a letter sent without the record's value (too large): its size and where to read it. */
  static final String VALUE_OMITTED_HEADER = "dlq-value-omitted";

  /** The error's text in a letter, at most (a handler's message may be any length). */
  static final int MAX_ERROR_CHARS = 1_000;

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
    String why = String.valueOf(error.getMessage());
    headers.put(
        ReactorKafkaConsumer.ERROR_HEADER,
        why.length() > MAX_ERROR_CHARS ? why.substring(0, MAX_ERROR_CHARS) + "..." : why);
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
    String topic = message.topic() + ReactorKafkaConsumer.DEAD_LETTER_SUFFIX;
    String key = message.key() != null ? message.key() : "";
    byte[] value = message.value() != null ? message.value() : new byte[0];
    return Mono.defer(() -> publisher.publish(new OutgoingMessage(topic, key, value, headers)))
        .onErrorResume(
            DeadLetters::tooLarge,
            e -> {
              log.warn(
                  "the dead letter of {}-{}@{} is too large to send whole ({} bytes): sent"
                      + " without its value",
                  message.topic(),
                  message.partition(),
                  message.offset(),
                  value.length);
              // The record's own headers go too (they may be what is large): only the letter's
              // (where it came from, why) and the note; such a letter is never replayed.
              Map<String, String> without = new HashMap<>();
              headers.forEach(
                  (name, text) -> {
                    if (name.startsWith("dlq-")) {
                      without.put(name, text);
                    }
                  });
              without.put(
                  VALUE_OMITTED_HEADER,
                  value.length
                      + " bytes, and its headers: read the record at its origin while its topic"
                      + " keeps it");
              return Mono.defer(
                  () -> publisher.publish(new OutgoingMessage(topic, key, new byte[0], without)));
            })
        .doOnSuccess(
            d ->
                Counter.builder("citadel_dead_letters")
                    .description("Messages set aside as unprocessable, by origin topic")
                    .tag("topic", message.topic())
                    .register(meters)
                    .increment())
        .then();
  }

  /** The producer refused the record for its size: no retry changes that. */
  static boolean tooLarge(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof org.apache.kafka.common.errors.RecordTooLargeException) {
        return true;
      }
    }
    return false;
  }
}
