package dev.citadel.web.problem;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.http.server.reactive.observation.ServerRequestObservationContext;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import org.springframework.web.util.DisconnectedClientHelper;
import reactor.core.publisher.Mono;

/**
 * The last word on any error no controller advice handled (no such route, wrong method or media
 * type at routing, a gateway's backend that cannot be reached, anything unexpected): a JSON problem
 * in our own words ({@link Problems}), never Spring's default error page or a stack trace. Runs
 * before Boot's own handler.
 */
@Order(-2)
public final class ProblemWebExceptionHandler implements WebExceptionHandler {
  private static final Logger log = LoggerFactory.getLogger(ProblemWebExceptionHandler.class);

  /**
   * Whether the error, or one suppressed by it, says the client left, as Spring judges it (its
   * causes included; a failure of our own connections, a WebClient or database error, is not).
   */
  static boolean clientGone(Throwable error) {
    if (DisconnectedClientHelper.isClientDisconnectedException(error)) {
      return true;
    }
    for (Throwable suppressed : error.getSuppressed()) {
      if (DisconnectedClientHelper.isClientDisconnectedException(suppressed)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Mono<Void> handle(ServerWebExchange exchange, Throwable error) {
    ServerHttpResponse response = exchange.getResponse();
    if (response.isCommitted()) {
      if (clientGone(error)) {
        // The client closed the connection while the answer was being written. Spring's own
        // handling then fails on the committed (read-only) headers and passes on a bare
        // UnsupportedOperationException carrying the disconnect as suppressed, which would be
        // logged as an ERROR without a stack trace. Nothing went wrong on our side.
        log.debug(
            "{} {}: the client left while the answer was written",
            exchange.getRequest().getMethod(),
            exchange.getRequest().getPath());
        ServerRequestObservationContext.findCurrent(exchange.getAttributes())
            .ifPresent(observation -> observation.setConnectionAborted(true));
        return Mono.empty();
      }
      return Mono.error(error); // nothing can be said any more: let the connection end
    }
    Problems.Answer answer =
        Problems.of(error)
            .orElseGet(
                () -> {
                  log.error(
                      "{} {} failed",
                      exchange.getRequest().getMethod(),
                      exchange.getRequest().getPath(),
                      error);
                  return new Problems.Answer(
                      HttpStatus.INTERNAL_SERVER_ERROR,
                      "internal error",
                      new org.springframework.http.HttpHeaders());
                });
    if (answer.status().is5xxServerError() && answer.status() != HttpStatus.INTERNAL_SERVER_ERROR) {
      // A dependency down or slow: the caller is told to retry; the operator must see it too.
      log.warn(
          "{} {} answered {}: {}",
          exchange.getRequest().getMethod(),
          exchange.getRequest().getPath(),
          answer.status().value(),
          error.toString());
    }
    response.setStatusCode(answer.status());
    response.getHeaders().putAll(answer.headers());
    response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
    return response.writeWith(
        Mono.just(response.bufferFactory().wrap(Problems.body(answer.status(), answer.detail()))));
  }
}
