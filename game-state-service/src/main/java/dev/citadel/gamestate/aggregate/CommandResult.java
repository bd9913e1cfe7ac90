package dev.citadel.gamestate.aggregate;

import java.util.List;

/**
 * The outcome of an accepted command: the new state, its version and the events it produced. A
 * {@code repeated} result answers a command whose idempotency key was used before: nothing new
 * happened, {@code events} are the first request's (as far as the journal still holds them) and the
 * state is the current one.
 */
public record CommandResult<S, E>(S state, long version, List<E> events, boolean repeated) {
  public CommandResult(S state, long version, List<E> events) {
    this(state, version, events, false);
  }
}
