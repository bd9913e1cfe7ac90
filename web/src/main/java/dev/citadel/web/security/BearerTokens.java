package dev.citadel.web.security;

import java.util.Set;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.resource.web.server.authentication.ServerBearerTokenAuthenticationConverter;
import org.springframework.security.web.server.authentication.ServerAuthenticationConverter;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The bearer token of a request: the {@code Authorization} header, or {@code ?access_token=} on the
 * WebSocket paths only (browsers cannot set headers on a WebSocket; anywhere else a token in a URL
 * ends up in logs and browser history, so it is not read there). On the anonymous paths a service
 * names (sign-up and log-in at member-service) no token is read at all: a stale token a client
 * still sends cannot turn an open route into a 401.
 */
public final class BearerTokens implements ServerAuthenticationConverter {
  private final ServerBearerTokenAuthenticationConverter headerOnly =
      new ServerBearerTokenAuthenticationConverter();
  private final ServerBearerTokenAuthenticationConverter headerOrQuery =
      new ServerBearerTokenAuthenticationConverter();
  private final Set<String> queryPaths;
  private final Set<String> anonymousPaths;

  public BearerTokens(Set<String> queryPaths) {
    this(queryPaths, Set.of());
  }

  public BearerTokens(Set<String> queryPaths, Set<String> anonymousPaths) {
    this.queryPaths = Set.copyOf(queryPaths);
    this.anonymousPaths = Set.copyOf(anonymousPaths);
    headerOrQuery.setAllowUriQueryParameter(true);
  }

  @Override
  public Mono<Authentication> convert(ServerWebExchange exchange) {
    String path = RequestPaths.of(exchange.getRequest());
    if (anonymousPaths.contains(path)) {
      return Mono.empty();
    }
    return (queryPaths.contains(path) ? headerOrQuery : headerOnly).convert(exchange);
  }
}
