package dev.citadel.gateway.identity;

import dev.citadel.web.security.SecurityProblems;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpResponseDecorator;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * The gateway's own 429 (its rate limiter ends the response with no body) as a problem in our
 * words, with {@code Retry-After}: a client is told what happened and when to try again, as for
 * every other refusal. Answers that come from a service (the log-in throttle's 429) pass as they
 * are.
 */
@Order(Ordered.HIGHEST_PRECEDENCE)
public final class RateLimitProblems implements WebFilter {
  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    ServerHttpResponseDecorator response =
        new ServerHttpResponseDecorator(exchange.getResponse()) {
          @Override
          public Mono<Void> setComplete() {
            HttpStatusCode status = getStatusCode();
            if (status != null && status.value() == 429 && !isCommitted()) {
              getDelegate().getHeaders().set(HttpHeaders.RETRY_AFTER, "1");
              return SecurityProblems.write(
                  getDelegate(),
                  HttpStatus.TOO_MANY_REQUESTS,
                  "too many requests from this player or address; try again in a second",
                  null);
            }
            return super.setComplete();
          }
        };
    return chain.filter(exchange.mutate().response(response).build());
  }
}
