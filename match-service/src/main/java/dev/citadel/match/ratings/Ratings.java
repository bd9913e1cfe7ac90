package dev.citadel.match.ratings;

import java.util.List;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Mono;

/**
 * A joining player's rating in a queue, and the game they are in if any, read from game-state (the
 * player's state is the truth for both; match-service's Redis may have lost a place). Instances are
 * tried in order while they cannot be reached; any instance reads any player.
 */
public final class Ratings {
  /**
   * A rating ({@code games} 0: the queue's initial rating), the match the player is in and the
   * player's nickname now (null from a game-state that does not say).
   */
  public record Rating(
      String playerId, String queue, int rating, int games, String inMatch, String nickname) {
    public boolean inGame() {
      return inMatch != null && !inMatch.isEmpty();
    }

    /**
     * The nickname game-state has, else the token's: a token's is as old as the token (up to an
     * hour), and the player may have renamed since and someone else taken the old name.
     */
    public String nicknameOr(String fromToken) {
      return nickname != null && !nickname.isEmpty() ? nickname : fromToken;
    }
  }

  private static final java.time.Duration TIMEOUT = java.time.Duration.ofSeconds(3);

  private final List<WebClient> instances;

  /**
   * @param instances one client per game-state URL, each sending this service's token
   */
  public Ratings(List<WebClient> instances) {
    if (instances.isEmpty()) {
      throw new IllegalArgumentException("at least one game-state URL is needed");
    }
    this.instances = List.copyOf(instances);
  }

  /**
   * The rating; when the last instance tried refuses for its load or fails (5xx, 429), a 503 that
   * says to try again (not a 500: nothing is wrong with the request, game-state is busy).
   * Unreachable or too slow answers 503 as well ({@code Problems}).
   */
  public Mono<Rating> of(String player, String queue) {
    return fromAny(
            0,
            client ->
                client
                    .get()
                    .uri("/internal/players/{id}/ratings/{queue}", player, queue)
                    .retrieve()
                    .bodyToMono(Rating.class))
        .onErrorMap(
            Ratings::refusedForNow,
            e -> unavailable("game-state cannot give the player's rating now; try again"));
  }

  /**
   * What game-state knows of a match: {@code IN_ROOM}, {@code ENDED}, or {@code NONE}; tried on
   * each instance in turn as {@link #of} is (until 2026-12-07 the first alone: while it was down, a
   * player whose seat Redis had lost was refused as in a game). No instance able to say now: a 503
   * (an {@link dev.citadel.web.problem.ApiException}, as {@link #forNow} tells): unreachable, too
   * slow or busy.
   */
  public Mono<String> matchState(String matchId) {
    return fromAny(
            0,
            client ->
                client
                    .get()
                    .uri("/internal/matches/{id}", matchId)
                    .exchangeToMono(
                        r ->
                            r.statusCode().value() == 404
                                ? Mono.just("NONE")
                                : r.statusCode().is2xxSuccessful()
                                    ? r.bodyToMono(MatchState.class).map(MatchState::state)
                                    : r.createError()))
        .onErrorMap(
            e -> refusedForNow(e) || unreachable(e),
            e -> unavailable("game-state cannot say whether the game is over now; try again"));
  }

  /**
   * Whether an error of {@link #matchState} means "not known now, ask again" (every instance
   * unreachable, too slow or busy) rather than a refusal of the request itself.
   */
  public static boolean forNow(Throwable e) {
    return e instanceof dev.citadel.web.problem.ApiException a
        && a.status() == org.springframework.http.HttpStatus.SERVICE_UNAVAILABLE;
  }

  private record MatchState(String state) {}

  private static dev.citadel.web.problem.ApiException unavailable(String detail) {
    return new dev.citadel.web.problem.ApiException(
        org.springframework.http.HttpStatus.SERVICE_UNAVAILABLE, detail);
  }

  /** Not reached, or no answer in time. */
  private static boolean unreachable(Throwable e) {
    return e instanceof WebClientRequestException
        || e instanceof java.util.concurrent.TimeoutException;
  }

  private static boolean refusedForNow(Throwable e) {
    return e
            instanceof org.springframework.web.reactive.function.client.WebClientResponseException r
        && (r.getStatusCode().is5xxServerError() || r.getStatusCode().value() == 429);
  }

  /** {@code ask} of instance {@code i}, else of the next while one cannot answer now. */
  private <T> Mono<T> fromAny(int i, java.util.function.Function<WebClient, Mono<T>> ask) {
    Mono<T> read = ask.apply(instances.get(i)).timeout(TIMEOUT);
    if (i + 1 == instances.size()) {
      return read;
    }
    // Unreachable, too slow, or failing (5xx): the next instance reads the same journal.
    return read.onErrorResume(
        e ->
            unreachable(e)
                || (e
                        instanceof
                        org.springframework.web.reactive.function.client.WebClientResponseException
                            r
                    && r.getStatusCode().is5xxServerError()),
        e -> fromAny(i + 1, ask));
  }
}
