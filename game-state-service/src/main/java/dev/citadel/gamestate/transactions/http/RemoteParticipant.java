package dev.citadel.gamestate.transactions.http;

import dev.citadel.eventstore.EventData;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.transactions.Participant;
import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.gamestate.transactions.Vote;
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
 */
public final class RemoteParticipant implements Participant {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(RemoteParticipant.class);

  /** How long the player is held is the participant's own configuration, never the caller's. */
  public record PrepareBody(String playerId, String command, Map<String, Object> args) {}

  public record EventBody(String type, String payload) {}

  public record VoteBody(String playerId, long expectedVersion, List<EventBody> events) {}

  public record DecisionBody(String playerId) {}

  /** Every step one instance has in a transaction, in one call. */
  public record PrepareAllBody(List<PrepareBody> steps) {}

  public record VotesBody(List<VoteBody> votes) {}

  public record DecisionsBody(List<String> playerIds) {}

  private static final Retry ONCE_IF_NO_RESPONSE =
      Retry.max(1)
          .filter(e -> e instanceof WebClientRequestException)
          .onRetryExhaustedThrow((spec, signal) -> signal.failure());

  private final WebClient http;

  public RemoteParticipant(WebClient http) {
    this.http = http;
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

  /** One call for all of this instance's players (a result has up to ten). */
  @Override
  public Mono<List<Vote>> prepareAll(String txId, List<Step> steps) {
    return http.post()
        .uri("/internal/tx/{tx}/prepare-all", txId)
        .bodyValue(
            new PrepareAllBody(
                steps.stream()
                    .map(s -> new PrepareBody(s.playerId(), s.command(), s.args()))
                    .toList()))
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

  @Override
  public Mono<Void> commitAll(String txId, List<String> playerIds) {
    return decideAll(txId, "commit-all", playerIds)
        .onErrorResume(
            WebClientResponseException.NotFound.class,
            notServed -> Participant.super.commitAll(txId, playerIds));
  }

  @Override
  public Mono<Void> abortAll(String txId, List<String> playerIds) {
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
  private static Throwable refused(WebClientResponseException e) {
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
    try {
      Map<?, ?> problem = e.getResponseBodyAs(Map.class);
      if (problem != null && problem.get("detail") != null) {
        detail = String.valueOf(problem.get("detail"));
      }
      busy = problem != null && Boolean.TRUE.equals(problem.get("busy"));
    } catch (RuntimeException notJson) {
      // keep the generic detail: a body that is not our problem JSON is not shown to players
      log.debug("a refusal with a body that is not a problem: {}", notJson.toString());
    }
    // A player held by another transaction over there is as busy as one held here: retried.
    return new Refused(reason(status), detail, busy ? Held.remote(detail) : e);
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
