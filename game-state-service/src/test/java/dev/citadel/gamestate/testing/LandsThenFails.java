package dev.citadel.gamestate.testing;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.Appended;
import dev.citadel.eventstore.EventStore;
import java.util.List;
import reactor.core.publisher.Mono;

/** The multi-stream append is written, and then its reply is lost (a connection reset). */
public class LandsThenFails extends FailingStore {
  public LandsThenFails(EventStore inner) {
    super(inner);
  }

  @Override
  public Mono<List<Appended>> appendAtomically(List<AppendRequest> requests) {
    return inner
        .appendAtomically(requests)
        .then(Mono.error(new IllegalStateException("connection reset after COMMIT (injected)")));
  }
}
