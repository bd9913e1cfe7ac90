package dev.citadel.gamestate.transactions;

import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * The participant protocol between game-state instances. Internal: the gateway has no route to
 * {@code /internal/**}, and every call needs a service token with {@code tx.participate}.
 */
@RestController
public class TransactionController {
  private final LocalParticipant local;

  public TransactionController(LocalParticipant local) {
    this.local = local;
  }

  @PostMapping("/internal/tx/{tx}/prepare")
  public Mono<RemoteParticipant.VoteBody> prepare(
      @PathVariable String tx, @RequestBody RemoteParticipant.PrepareBody body) {
    return local
        .prepare(tx, body.playerId(), body.command(), body.args())
        .map(RemoteParticipant::body);
  }

  @PostMapping("/internal/tx/{tx}/commit")
  public Mono<Void> commit(
      @PathVariable String tx, @RequestBody RemoteParticipant.DecisionBody body) {
    return local.commit(tx, body.playerId());
  }

  @PostMapping("/internal/tx/{tx}/abort")
  public Mono<Void> abort(
      @PathVariable String tx, @RequestBody RemoteParticipant.DecisionBody body) {
    return local.abort(tx, body.playerId());
  }
}
