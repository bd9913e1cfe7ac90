package dev.citadel.gamestate.transactions;

import java.util.function.Supplier;
import reactor.core.publisher.Mono;

/**
 * Work of a transaction that, once subscribed, runs to its end whatever its subscriber does: a
 * caller that goes away (a closed connection, a timeout) only drops the answer. A two-phase commit
 * cut off between its steps leaves its players held until their holds lapse.
 */
public final class RunsToEnd {
  private RunsToEnd() {}

  public static <T> Mono<T> of(Supplier<Mono<T>> work) {
    return Mono.defer(() -> Mono.fromFuture(work.get().toFuture(), true));
  }
}
