package dev.citadel.gamestate.aggregate;

import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Work done after events are durable, off the command's path (leaderboard, notifications): the hook
 * describes it and {@link AggregateHost} runs it, once, without waiting for it. A failure is logged
 * there and never undoes or delays the command.
 */
@FunctionalInterface
public interface AfterCommit<S, E> {
  Mono<Void> committed(String aggregateId, S state, long version, List<E> events);
}
