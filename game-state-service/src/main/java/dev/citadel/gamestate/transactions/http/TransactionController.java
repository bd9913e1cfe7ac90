package dev.citadel.gamestate.transactions.http;

import dev.citadel.gamestate.transactions.LocalParticipant;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.web.problem.ApiException;
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

  /** Every step this instance has in the transaction: one call instead of one per player. */
  @PostMapping("/internal/tx/{tx}/prepare-all")
  public Mono<RemoteParticipant.VotesBody> prepareAll(
      @PathVariable String tx, @RequestBody RemoteParticipant.PrepareAllBody body) {
    if (body == null
        || body.steps() == null
        || body.steps().isEmpty()
        || body.steps().contains(null)) {
      throw ApiException.badRequest("'steps' is required: at least one");
    }
    return local
        .prepareAll(
            tx,
            body.steps().stream().map(b -> new Step(b.playerId(), b.command(), b.args())).toList())
        .map(
            votes ->
                new RemoteParticipant.VotesBody(
                    votes.stream().map(RemoteParticipant::body).toList()));
  }

  @PostMapping("/internal/tx/{tx}/commit-all")
  public Mono<Void> commitAll(
      @PathVariable String tx, @RequestBody RemoteParticipant.DecisionsBody body) {
    return local.commitAll(tx, playerIds(body));
  }

  @PostMapping("/internal/tx/{tx}/abort-all")
  public Mono<Void> abortAll(
      @PathVariable String tx, @RequestBody RemoteParticipant.DecisionsBody body) {
    return local.abortAll(tx, playerIds(body));
  }

  private static java.util.List<String> playerIds(RemoteParticipant.DecisionsBody body) {
    if (body == null
        || body.playerIds() == null
        || body.playerIds().isEmpty()
        || body.playerIds().contains(null)) {
      throw ApiException.badRequest("'playerIds' is required: at least one");
    }
    return body.playerIds();
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
