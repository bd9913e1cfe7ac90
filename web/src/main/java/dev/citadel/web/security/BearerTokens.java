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
 * ends up in logs and browser history, so it is not read there).
 */
public final class BearerTokens implements ServerAuthenticationConverter {
  private final ServerBearerTokenAuthenticationConverter headerOnly =
      new ServerBearerTokenAuthenticationConverter();
  private final ServerBearerTokenAuthenticationConverter headerOrQuery =
      new ServerBearerTokenAuthenticationConverter();
  private final Set<String> queryPaths;

  public BearerTokens(Set<String> queryPaths) {
    this.queryPaths = Set.copyOf(queryPaths);
    headerOrQuery.setAllowUriQueryParameter(true);
  }

  @Override
  public Mono<Authentication> convert(ServerWebExchange exchange) {
    String path = exchange.getRequest().getPath().pathWithinApplication().value();
    return (queryPaths.contains(path) ? headerOrQuery : headerOnly).convert(exchange);
  }
}
