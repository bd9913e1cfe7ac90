package dev.citadel.web.security;

import dev.citadel.web.problem.Problems;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.server.ServerAuthenticationEntryPoint;
import org.springframework.security.web.server.authentication.ServerAuthenticationFailureHandler;
import org.springframework.security.web.server.authorization.ServerAccessDeniedHandler;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * 401 and 403 as JSON problems. The body says what is wrong in our words only: why a token failed
 * (a decoder's message, a parser's position) stays in the server, so a caller cannot probe the
 * verifier with it.
 */
public final class SecurityProblems {
  private SecurityProblems() {}

  public static ServerAuthenticationEntryPoint unauthorized() {
    return (exchange, e) -> unauthorized(exchange, e);
  }

  /**
   * A token that could not be verified: 401, unless there were no keys to verify it with (member
   * -service's JWKS cannot be fetched, {@link CachedJwks.KeysUnavailable}): then the token may be
   * good, and the answer is 503 with {@code Retry-After}, not a 401 that sends a player to log in
   * again for an outage of ours.
   */
  public static ServerAuthenticationFailureHandler failed() {
    return (filterExchange, e) -> {
      ServerWebExchange exchange = filterExchange.getExchange();
      Optional<CachedJwks.KeysUnavailable> noKeys =
          Problems.cause(e, CachedJwks.KeysUnavailable.class);
      if (noKeys.isPresent()) {
        long seconds = (noKeys.get().retryAfter().toMillis() + 999) / 1000;
        exchange.getResponse().getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(seconds));
        return write(
            exchange.getResponse(),
            HttpStatus.SERVICE_UNAVAILABLE,
            "tokens cannot be verified for a moment; try again",
            null);
      }
      if (e instanceof AuthenticationServiceException) {
        // Our own failure, not the token's (as Spring's default handler does): a 500, logged.
        return Mono.error(e);
      }
      return unauthorized(exchange, e);
    };
  }

  public static ServerAccessDeniedHandler forbidden() {
    return (exchange, e) ->
        write(
            exchange.getResponse(),
            HttpStatus.FORBIDDEN,
            "this caller may not use this route",
            null);
  }

  private static Mono<Void> unauthorized(ServerWebExchange exchange, AuthenticationException e) {
    boolean presented =
        exchange.getRequest().getHeaders().getFirst("Authorization") != null
            || exchange.getRequest().getQueryParams().containsKey("access_token");
    String detail =
        presented ? "the token is invalid, expired or not for this service" : "a token is required";
    return write(
        exchange.getResponse(),
        HttpStatus.UNAUTHORIZED,
        detail,
        presented ? "Bearer error=\"invalid_token\"" : "Bearer");
  }

  /**
   * Writes a problem body; {@code challenge} becomes {@code WWW-Authenticate} when set. A 503
   * always says when to try again: {@code Retry-After} 1 s unless the caller set its own.
   */
  public static Mono<Void> write(
      ServerHttpResponse response, HttpStatus status, String detail, String challenge) {
    if (response.isCommitted()) {
      return Mono.empty();
    }
    response.setStatusCode(status);
    if (status == HttpStatus.SERVICE_UNAVAILABLE
        && response.getHeaders().getFirst(HttpHeaders.RETRY_AFTER) == null) {
      response.getHeaders().set(HttpHeaders.RETRY_AFTER, "1");
    }
    if (challenge != null) {
      response.getHeaders().set("WWW-Authenticate", challenge);
    }
    response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
    return response.writeWith(
        Mono.just(response.bufferFactory().wrap(Problems.body(status, detail))));
  }
}
