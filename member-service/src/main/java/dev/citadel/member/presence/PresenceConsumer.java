package dev.citadel.member.presence;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.messaging.Unprocessable;
import dev.citadel.protocol.member.v1.PresenceChanged;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataIntegrityViolationException;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Keeps presence from the {@code player.presence} topic: in order per player (the topic is keyed by
 * player id), idempotent (sequence check), offsets committed after the row is written.
 */
public final class PresenceConsumer {
  private static final Logger log = LoggerFactory.getLogger(PresenceConsumer.class);
  static final String GROUP = "member-service.presence";

  private final MessageConsumer consumer;
  private final PresenceStore store;
  private final String topic;
  private final Counter ignored;

  public PresenceConsumer(
      MessageConsumer consumer, PresenceStore store, String topic, MeterRegistry meters) {
    this.consumer = consumer;
    this.store = store;
    this.topic = topic;
    this.ignored =
        Counter.builder("citadel_presence_ignored")
            .description("presence changes for players without an account (load-test players)")
            .register(meters);
  }

  public Disposable start() {
    return consumer.start(GROUP, List.of(topic), this::handle);
  }

  Mono<Void> handle(IncomingMessage message) {
    PresenceChanged change;
    try {
      change = PresenceChanged.parseFrom(message.value());
    } catch (InvalidProtocolBufferException e) {
      return Mono.error(new Unprocessable("not a PresenceChanged", e));
    }
    return store
        .apply(change)
        .onErrorResume(
            DataIntegrityViolationException.class,
            e -> {
              // No such account (players queued in bulk by a load test): nothing to keep
              // presence for. Not retried, not dead-lettered; counted, not logged one by one.
              ignored.increment();
              log.debug("presence for unknown player {} ignored", change.getPlayerId());
              return Mono.just(false);
            })
        .then();
  }
}
