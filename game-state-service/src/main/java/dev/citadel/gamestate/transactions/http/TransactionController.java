package dev.citadel.gamestate.transactions.http;

import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.transactions.Participant;
import dev.citadel.gamestate.transactions.Refusals;
import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.web.problem.ApiException;
import java.time.Duration;
import java.util.Map;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The participant protocol between game-state instances. Internal: the gateway has no route to
 * {@code /internal/**}, and every call needs a service token with {@code tx.participate}.
 */
@RestController
public class TransactionController {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(TransactionController.class);
  private final Participant local;
  private final Duration prepareDeadline;

  /**
   * @param local this instance's participant (its {@code LocalParticipant})
   * @param prepareTimeout how long coordinators wait for a prepare (this service's configuration):
   *     a prepare in a request of many calls still running a second after it answers "unavailable",
   *     so that the calls that came with it are not held up longer
   */
  public TransactionController(
      Participant local,
      @Value("${citadel.game-state.transactions.prepare-timeout:2s}") Duration prepareTimeout) {
    this.local = local;
    // Before the client's own timeout for the request, so that the other calls' answers reach it.
    Duration latest = InstanceCalls.REQUEST_TIMEOUT.minusSeconds(1);
    Duration wanted = prepareTimeout.plusSeconds(1);
    this.prepareDeadline = wanted.compareTo(latest) < 0 ? wanted : latest;
  }

  @PostMapping("/internal/tx/{tx}/prepare")
  public Mono<TxWire.VoteBody> prepare(
      @PathVariable String tx, @RequestBody TxWire.PrepareBody body) {
    return local
        .prepare(tx, body.playerId(), body.command(), body.args())
        .map(RemoteParticipant::body);
  }

  /** Every step this instance has in the transaction: one call instead of one per player. */
  @PostMapping("/internal/tx/{tx}/prepare-all")
  public Mono<TxWire.VotesBody> prepareAll(
      @PathVariable String tx, @RequestBody TxWire.PrepareAllBody body) {
    if (body == null
        || body.steps() == null
        || body.steps().isEmpty()
        || body.steps().contains(null)) {
      throw ApiException.badRequest("'steps' is required: at least one");
    }
    return local
        .prepareAll(tx, TxWire.PrepareBody.steps(body.steps()))
        .map(votes -> new TxWire.VotesBody(votes.stream().map(RemoteParticipant::body).toList()));
  }

  /**
   * Calls of many transactions in one request ({@link RemoteParticipant} sends those made while its
   * previous requests were in flight): each is carried out on its own, at once, and answered in the
   * calls' order with its votes, nothing, or its refusal; one call's refusal is not the others'.
   */
  @PostMapping("/internal/tx/calls")
  public Mono<TxWire.AnswersBody> calls(@RequestBody TxWire.CallsBody body) {
    if (body == null
        || body.calls() == null
        || body.calls().isEmpty()
        || body.calls().size() > MAX_CALLS
        || body.calls().contains(null)) {
      throw ApiException.badRequest("'calls' is required: 1 to " + MAX_CALLS + ", none null");
    }
    return Flux.fromIterable(body.calls())
        .flatMapSequential(
            c ->
                Mono.defer(() -> call(c))
                    .switchIfEmpty(
                        Mono.error(() -> new IllegalStateException("a call answered nothing")))
                    .onErrorResume(e -> Mono.just(refusal(e))),
            body.calls().size(),
            1)
        .collectList()
        .map(TxWire.AnswersBody::new);
  }

  /** Calls one request may carry (the client sends at most {@link InstanceCalls#MAX_CALLS}). */
  static final int MAX_CALLS = 256;

  private Mono<TxWire.AnswerBody> call(TxWire.CallBody c) {
    if (c == null || c.tx() == null || c.tx().isBlank() || c.op() == null) {
      throw ApiException.badRequest("each call needs 'tx' and 'op'");
    }
    return switch (c.op()) {
      case PREPARE -> {
        if (c.steps() == null || c.steps().isEmpty() || c.steps().contains(null)) {
          throw ApiException.badRequest("a prepare needs 'steps': at least one");
        }
        yield local
            .prepareAll(c.tx(), TxWire.PrepareBody.steps(c.steps()))
            .timeout(prepareDeadline)
            .map(
                votes ->
                    new TxWire.AnswerBody(
                        votes.stream().map(RemoteParticipant::body).toList(),
                        null,
                        null,
                        null,
                        null));
      }
      case COMMIT ->
          carriedOut(
                  local.commitAll(
                      c.tx(),
                      playerIds(c.playerIds()),
                      c.stored() == null ? Map.of() : stored(c.stored())))
              .thenReturn(TxWire.AnswerBody.DONE);
      case ABORT ->
          carriedOut(local.abortAll(c.tx(), playerIds(c.playerIds())))
              .thenReturn(TxWire.AnswerBody.DONE);
    };
  }

  /**
   * A decision runs to its end even when the request is given up (its caller's timeout closed the
   * connection): a commit cut off keeps its players held until the lapse.
   */
  private static Mono<Void> carriedOut(Mono<Void> decision) {
    return Mono.fromFuture(
        decision
            .doOnError(e -> log.warn("a decision failed at this participant: {}", e.toString()))
            .toFuture(),
        true);
  }

  /**
   * A call's failure as its coordinator takes it ({@link Refusals}, as the coordinator maps its own
   * participant's failures); a player held by another transaction is marked busy, so the
   * coordinator tries again, and a refusal for this instance's capacity says so, so that a batch of
   * results is refused as a whole (503) instead of being run again result by result.
   */
  static TxWire.AnswerBody refusal(Throwable e) {
    Refused r = Refusals.of(e);
    boolean busy = e instanceof Held || r.getCause() instanceof Held;
    return new TxWire.AnswerBody(
        null, r.reason().name(), r.getMessage(), busy, r.forCapacity() ? Boolean.TRUE : null);
  }

  @PostMapping("/internal/tx/{tx}/commit-all")
  public Mono<Void> commitAll(@PathVariable String tx, @RequestBody TxWire.DecisionsBody body) {
    return carriedOut(local.commitAll(tx, playerIds(body)));
  }

  @PostMapping("/internal/tx/{tx}/abort-all")
  public Mono<Void> abortAll(@PathVariable String tx, @RequestBody TxWire.DecisionsBody body) {
    return carriedOut(local.abortAll(tx, playerIds(body)));
  }

  private static java.util.List<String> playerIds(TxWire.DecisionsBody body) {
    return playerIds(body == null ? null : body.playerIds());
  }

  /** The coordinator's stored versions: no null key or version (a map with one would throw). */
  private static Map<String, Long> stored(Map<String, Long> stored) {
    for (Map.Entry<String, Long> e : stored.entrySet()) {
      if (e.getKey() == null || e.getValue() == null) {
        throw ApiException.badRequest("'stored' maps players to versions");
      }
    }
    return stored;
  }

  private static java.util.List<String> playerIds(java.util.List<String> playerIds) {
    if (playerIds == null || playerIds.isEmpty() || playerIds.contains(null)) {
      throw ApiException.badRequest("'playerIds' is required: at least one");
    }
    return playerIds;
  }

  @PostMapping("/internal/tx/{tx}/commit")
  public Mono<Void> commit(@PathVariable String tx, @RequestBody TxWire.DecisionBody body) {
    return carriedOut(local.commit(tx, body.playerId()));
  }

  @PostMapping("/internal/tx/{tx}/abort")
  public Mono<Void> abort(@PathVariable String tx, @RequestBody TxWire.DecisionBody body) {
    return carriedOut(local.abort(tx, body.playerId()));
  }
}
