package dev.citadel.member.presence;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.messaging.Unprocessable;
import dev.citadel.protocol.member.v1.PresenceChanged;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Keeps presence from the {@code player.presence} topic in batches: in order per player (the topic
 * is keyed by player id, and a batch keeps each player's newest change), idempotent (sequence
 * check), offsets committed after the rows are written.
 */
public final class PresenceConsumer {
  private static final Logger log = LoggerFactory.getLogger(PresenceConsumer.class);
  static final String GROUP = "member-service.presence";
  static final int MAX_BATCH = 500;

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
            .description(
                "players without an account (load-test players), once per batch naming them")
            .register(meters);
  }

  public Disposable start() {
    return consumer.startBatched(GROUP, List.of(topic), MAX_BATCH, this::handle);
  }

  /**
   * One statement per batch. A message that cannot be parsed, or names no status or no possible
   * time, makes the batch {@link Unprocessable}: the consumer then goes one message at a time and
   * sets that one aside.
   */
  Mono<Void> handle(List<IncomingMessage> messages) {
    List<PresenceChanged> changes = new ArrayList<>(messages.size());
    for (IncomingMessage message : messages) {
      try {
        PresenceChanged change = PresenceChanged.parseFrom(message.value());
        PresenceStore.requireStatus(change);
        changes.add(change);
      } catch (InvalidProtocolBufferException | IllegalArgumentException e) {
        return Mono.error(new Unprocessable("not a PresenceChanged with a status and a time", e));
      }
    }
    return store
        .applyAll(changes)
        .doOnNext(
            applied -> {
              // No such account (players queued in bulk by a load test): nothing to keep
              // presence for. Not retried, not dead-lettered; counted, not logged one by one.
              if (applied.unknown() > 0) {
                ignored.increment(applied.unknown());
                log.debug("presence for {} unknown players ignored", applied.unknown());
              }
            })
        .then();
  }
}
