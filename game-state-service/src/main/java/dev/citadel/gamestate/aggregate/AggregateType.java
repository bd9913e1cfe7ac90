package dev.citadel.gamestate.aggregate;

import dev.citadel.eventstore.EventData;
import java.util.List;

/**
 * Everything the {@link AggregateHost} needs to know about one kind of aggregate: its pure
 * decide/evolve functions and how its events and snapshots are serialized.
 *
 * @param <S> state
 * @param <C> command
 * @param <E> event
 */
public interface AggregateType<S, C, E> {
  /** Stored as the aggregate type in the journal, e.g. {@code player}. */
  String name();

  S initial(String id);

  List<E> decide(C command, S state);

  S evolve(S state, E event);

  EventData encode(E event);

  E decode(String type, byte[] payload);

  String snapshotType();

  byte[] snapshot(S state);

  S restore(String id, byte[] snapshot);
}
