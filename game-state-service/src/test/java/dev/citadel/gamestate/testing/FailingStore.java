package dev.citadel.gamestate.testing;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.Appended;
import dev.citadel.eventstore.EventStore;
import java.util.List;
import reactor.core.publisher.Mono;

/** The database goes away exactly at the multi-stream append; everything else is real. */
public class FailingStore extends ForwardingEventStore {
  public FailingStore(EventStore inner) {
    super(inner);
  }

  @Override
  public Mono<List<Appended>> appendAtomically(List<AppendRequest> requests) {
    return Mono.error(new IllegalStateException("connection reset (injected)"));
  }
}
