package dev.citadel.messaging;

import reactor.core.publisher.Mono;

/**
 * Handles one message. The returned {@code Mono} must complete only when the effect is durable: the
 * consumer commits the message's offset after that, never before. Handlers must be idempotent,
 * since a message can arrive again after a crash or a rebalance.
 */
@FunctionalInterface
public interface MessageHandler {
  Mono<Void> handle(IncomingMessage message);
}
