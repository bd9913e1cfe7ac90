package dev.citadel.web.security;

import java.util.Set;
import org.springframework.http.HttpHeaders;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
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
    if (queryPaths.contains(path)) {
      return headerOrQuery.convert(exchange);
    }
    // The usual request, a well-formed bearer header, is read here: Spring's converter matches a
    // regular expression over the whole token and assembles a merge of three sources for it (3 %
    // of the gateway's CPU). Anything else (no header, another scheme, a malformed token) is still
    // its to answer, with its errors.
    String token =
        wellFormed(exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION));
    return token != null
        ? Mono.just(new BearerTokenAuthenticationToken(token))
        : headerOnly.convert(exchange);
  }

  private static final String BEARER = "Bearer ";

  /**
   * The token of an {@code Authorization} value that Spring's converter accepts ({@code ^Bearer
   * (?<token>[a-zA-Z0-9-._~+/]+=*)$}, case-insensitive), or null for any other value.
   */
  public static String wellFormed(String authorization) {
    if (authorization == null
        || !authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      return null;
    }
    int end = authorization.length();
    while (end > BEARER.length() && authorization.charAt(end - 1) == '=') {
      end--;
    }
    if (end == BEARER.length()) {
      return null;
    }
    for (int i = BEARER.length(); i < end; i++) {
      if (!tokenChar(authorization.charAt(i))) {
        return null;
      }
    }
    return authorization.substring(BEARER.length());
  }

  private static boolean tokenChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '-'
        || c == '.'
        || c == '_'
        || c == '~'
        || c == '+'
        || c == '/';
  }
}
