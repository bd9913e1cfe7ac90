package dev.citadel.messaging;

import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Handles consecutive messages of ONE partition together, in offset order, so a handler can write
 * them in one database statement or transaction. The same rules as {@link MessageHandler} apply:
 * complete only when every message's effect is durable, and be idempotent (a batch can arrive
 * again, and not always cut at the same places).
 */
@FunctionalInterface
public interface BatchHandler {
  Mono<Void> handle(List<IncomingMessage> batch);
}
