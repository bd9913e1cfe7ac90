package dev.citadel.gamestate.transactions.http;

import dev.citadel.eventstore.EventData;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.aggregate.Overloaded;
import dev.citadel.gamestate.transactions.Participant;
import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.gamestate.transactions.RunsToEnd;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.gamestate.transactions.Vote;
import dev.citadel.gamestate.transactions.http.TxWire.CallBody;
import dev.citadel.gamestate.transactions.http.TxWire.DecisionBody;
import dev.citadel.gamestate.transactions.http.TxWire.DecisionsBody;
import dev.citadel.gamestate.transactions.http.TxWire.EventBody;
import dev.citadel.gamestate.transactions.http.TxWire.Op;
import dev.citadel.gamestate.transactions.http.TxWire.PrepareAllBody;
import dev.citadel.gamestate.transactions.http.TxWire.PrepareBody;
import dev.citadel.gamestate.transactions.http.TxWire.VoteBody;
import dev.citadel.gamestate.transactions.http.TxWire.VotesBody;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import org.springframework.web.reactive.function.client.WebClientResponseException;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * A participant on another game-state instance, over its internal HTTP endpoints ({@code
 * /internal/tx/**}: never routed by the gateway; the WebClient carries this instance's service
 * token with {@code tx.participate}). A call whose request got no response at all (a pooled
 * keep-alive connection the other side was closing: "Connection prematurely closed BEFORE
 * response") is sent once more; every step is idempotent by transaction id, and the coordinator's
 * timeouts still bound the whole transaction. An answer, even an error, is never sent again.
 *
 * <p>The wire records it sends and the controller answers in are {@link TxWire}'s.
 */
public final class RemoteParticipant implements Participant {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(RemoteParticipant.class);

  static final Retry ONCE_IF_NO_RESPONSE =
      Retry.max(1)
          .filter(e -> e instanceof WebClientRequestException)
          .onRetryExhaustedThrow((spec, signal) -> signal.failure());

  private final WebClient http;
  private final InstanceCalls calls;

  public RemoteParticipant(WebClient http) {
    this(http, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }

  /**
   * @param meters where the calls each request carried are counted ({@code
   *     citadel_tx_calls_per_request})
   */
  public RemoteParticipant(WebClient http, io.micrometer.core.instrument.MeterRegistry meters) {
    this.http = http;
    this.calls = new InstanceCalls(http, this::alone, meters, System::nanoTime);
  }

  @Override
  public Mono<Vote> prepare(
      String txId, String playerId, String command, Map<String, Object> args) {
    return http.post()
        .uri("/internal/tx/{tx}/prepare", txId)
        .bodyValue(new PrepareBody(playerId, command, args))
        .retrieve()
        .bodyToMono(VoteBody.class)
        .retryWhen(ONCE_IF_NO_RESPONSE)
        .map(RemoteParticipant::vote)
        .onErrorMap(WebClientResponseException.class, RemoteParticipant::refused);
  }

  /**
   * One call for all of this instance's players (a result has up to ten), sent with the calls of
   * other transactions made meanwhile ({@link InstanceCalls}: transport only, each call is carried
   * out and answered on its own). The answer must hold one vote per step, for the step's player, in
   * the steps' order: anything else fails (the coordinator aborts), never a part stored.
   */
  @Override
  public Mono<List<Vote>> prepareAll(String txId, List<Step> steps) {
    return calls
        .call(new CallBody(txId, Op.PREPARE, PrepareBody.of(steps), null, null))
        .map(a -> votesFor(steps, a.votes()));
  }

  static List<Vote> votesFor(List<Step> steps, List<Vote> votes) {
    boolean match = votes != null && votes.size() == steps.size();
    for (int i = 0; match && i < steps.size(); i++) {
      match = steps.get(i).playerId().equals(votes.get(i).playerId());
    }
    if (!match) {
      throw new IllegalStateException(
          "another game-state instance answered "
              + (votes == null ? "no votes" : votes.size() + " votes")
              + " for "
              + steps.size()
              + " steps");
    }
    return votes;
  }

  @Override
  public Mono<Void> commitAll(String txId, List<String> playerIds) {
    return commitAll(txId, playerIds, Map.of());
  }

  /**
   * Sent whatever its caller does next: a decision is not taken back when the coordinator stops
   * waiting for its confirmation (one never sent would leave its players held until the hold
   * lapses, their after-commit work lost unless something reads them first).
   */
  @Override
  public Mono<Void> commitAll(String txId, List<String> playerIds, Map<String, Long> stored) {
    return decided(new CallBody(txId, Op.COMMIT, null, playerIds, stored));
  }

  @Override
  public Mono<Void> abortAll(String txId, List<String> playerIds) {
    return decided(new CallBody(txId, Op.ABORT, null, playerIds, null));
  }

  private Mono<Void> decided(CallBody decision) {
    return RunsToEnd.of(() -> calls.call(decision)).then();
  }

  /** One call in a request of its own (an instance without {@code /internal/tx/calls}). */
  private Mono<List<Vote>> alone(CallBody c) {
    return switch (c.op()) {
      case PREPARE -> prepareAllAlone(c.tx(), PrepareBody.steps(c.steps()));
      case COMMIT -> commitAllAlone(c.tx(), c.playerIds()).thenReturn(List.of());
      case ABORT -> abortAllAlone(c.tx(), c.playerIds()).thenReturn(List.of());
    };
  }

  private Mono<List<Vote>> prepareAllAlone(String txId, List<Step> steps) {
    return http.post()
        .uri("/internal/tx/{tx}/prepare-all", txId)
        .bodyValue(new PrepareAllBody(PrepareBody.of(steps)))
        .retrieve()
        .bodyToMono(VotesBody.class)
        .retryWhen(ONCE_IF_NO_RESPONSE)
        .map(b -> b.votes().stream().map(RemoteParticipant::vote).toList())
        // An instance that does not serve the call yet (a rolling update) answers 404: each player
        // is asked on its own instead. (A 404 of the player's rules comes again from that call:
        // prepares are idempotent by transaction id.)
        .onErrorResume(
            WebClientResponseException.NotFound.class,
            notServed -> Participant.super.prepareAll(txId, steps))
        .onErrorMap(WebClientResponseException.class, RemoteParticipant::refused);
  }

  private Mono<Void> commitAllAlone(String txId, List<String> playerIds) {
    return decideAll(txId, "commit-all", playerIds)
        .onErrorResume(
            WebClientResponseException.NotFound.class,
            notServed -> Participant.super.commitAll(txId, playerIds));
  }

  private Mono<Void> abortAllAlone(String txId, List<String> playerIds) {
    return decideAll(txId, "abort-all", playerIds)
        .onErrorResume(
            WebClientResponseException.NotFound.class,
            notServed -> Participant.super.abortAll(txId, playerIds));
  }

  private Mono<Void> decideAll(String txId, String decision, List<String> playerIds) {
    return decide(txId, decision, new DecisionsBody(playerIds));
  }

  @Override
  public Mono<Void> commit(String txId, String playerId) {
    return decide(txId, "commit", playerId);
  }

  @Override
  public Mono<Void> abort(String txId, String playerId) {
    return decide(txId, "abort", playerId);
  }

  private Mono<Void> decide(String txId, String decision, String playerId) {
    return decide(txId, decision, new DecisionBody(playerId));
  }

  private Mono<Void> decide(String txId, String decision, Object body) {
    return http.post()
        .uri("/internal/tx/{tx}/{decision}", txId, decision)
        .bodyValue(body)
        .retrieve()
        .toBodilessEntity()
        .retryWhen(ONCE_IF_NO_RESPONSE)
        .then();
  }

  static Vote vote(VoteBody b) {
    return new Vote(
        b.playerId(),
        b.expectedVersion(),
        b.events().stream()
            .map(e -> new EventData(e.type(), Base64.getDecoder().decode(e.payload())))
            .toList());
  }

  static VoteBody body(Vote v) {
    return new VoteBody(
        v.playerId(),
        v.expectedVersion(),
        v.events().stream()
            .map(e -> new EventBody(e.type(), Base64.getEncoder().encodeToString(e.payload())))
            .toList());
  }

  /**
   * A participant's 4xx keeps its status and message (the player's rules said no), and so does its
   * 503 (refused under overload, before any work), except 401 and 403: those mean the call between
   * instances was not allowed (our service token), which is this service's fault, never the
   * player's, and says nothing a player should read.
   */
  static Throwable refused(WebClientResponseException e) {
    HttpStatus status = HttpStatus.resolve(e.getStatusCode().value());
    if (status == HttpStatus.UNAUTHORIZED || status == HttpStatus.FORBIDDEN) {
      log.error("another game-state instance refused this one's call ({})", status, e);
      return new Refused(
          Refused.Reason.UNAVAILABLE, "another game-state instance could not be reached", e);
    }
    if (status == null
        || !(status.is4xxClientError() || status == HttpStatus.SERVICE_UNAVAILABLE)) {
      return e;
    }
    String detail = "a participant refused";
    boolean busy = false;
    boolean capacity = false;
    try {
      Map<?, ?> problem = e.getResponseBodyAs(Map.class);
      if (problem != null && problem.get("detail") != null) {
        detail = String.valueOf(problem.get("detail"));
      }
      busy = problem != null && Boolean.TRUE.equals(problem.get("busy"));
      capacity = problem != null && Boolean.TRUE.equals(problem.get("capacity"));
    } catch (RuntimeException notJson) {
      // keep the generic detail: a body that is not our problem JSON is not shown to players
      log.debug("a refusal with a body that is not a problem: {}", notJson.toString());
    }
    // A player held by another transaction over there is as busy as one held here: retried. A
    // refusal for its capacity is one here too (a batch of results refused whole, not split).
    return new Refused(
        reason(status),
        detail,
        busy
            ? Held.remote(detail)
            : capacity && status == HttpStatus.SERVICE_UNAVAILABLE ? Overloaded.remote(detail) : e);
  }

  /** The other instance's answer, as this one's caller should take it. */
  public static Refused.Reason reason(HttpStatus status) {
    return switch (status) {
      case NOT_FOUND -> Refused.Reason.NOT_FOUND;
      case CONFLICT -> Refused.Reason.CONFLICT;
      case CONTENT_TOO_LARGE -> Refused.Reason.TOO_LARGE;
      case UNPROCESSABLE_CONTENT -> Refused.Reason.UNPROCESSABLE;
      // Refused for load, before any work: the caller may send it again, as with a 503.
      case SERVICE_UNAVAILABLE, TOO_MANY_REQUESTS -> Refused.Reason.UNAVAILABLE;
      default -> Refused.Reason.INVALID;
    };
  }
}
