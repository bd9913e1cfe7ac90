package dev.citadel.gamestate.aggregate;

import java.util.List;

/**
 * Work done after events are durable, off the command's path (leaderboard, notifications). A
 * failure here is logged and never undoes or delays the command.
 */
@FunctionalInterface
public interface AfterCommit<S, E> {
  void committed(String aggregateId, S state, long version, List<E> events);
}
