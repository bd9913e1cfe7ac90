package dev.citadel.messaging;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Publishes messages durably: a returned {@link Delivery} means every in-sync replica has the
 * message ({@code acks=all}); retries never duplicate it (idempotent producer).
 */
public interface MessagePublisher extends AutoCloseable {

  /** Completes when the message is stored, or fails once retries are exhausted. */
  Mono<Delivery> publish(OutgoingMessage message);

  /**
   * Publishes in order; an element for each message stored, as it is. A message that fails has no
   * element: the first failure is the error, signalled only once every message has its outcome.
   */
  Flux<Delivery> publishAll(Flux<OutgoingMessage> messages);

  @Override
  void close();
}
