package dev.citadel.gamestate.aggregate;

import java.util.List;

/** The outcome of an accepted command: the new state, its version and the events it produced. */
public record CommandResult<S, E>(S state, long version, List<E> events) {}
