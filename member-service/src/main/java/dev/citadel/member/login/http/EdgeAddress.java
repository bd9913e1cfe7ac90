package dev.citadel.member.login.http;

import dev.citadel.web.security.Callers;
import dev.citadel.web.security.ClientAddress;
import dev.citadel.web.security.Scopes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.springframework.http.HttpHeaders;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The client address of a sign-up or log-in. The gateway resolves it (trusting only the proxies
 * configured there) and writes it as the only {@code X-Forwarded-For} entry; member-service
 * believes that header only when the request carries the gateway's service token with {@value
 * Scopes#EDGE_FORWARD}. No address range is trusted: a pod (or anyone) that can reach
 * member-service cannot choose the address its log-ins are counted under.
 *
 * <p>These routes are open, so the security chain reads no token on them; the token is checked
 * here. No token, or a valid one without the scope: not vouched for, the socket's address counts. A
 * token that does not verify is {@link Refused} (401 {@code invalid_token}): the gateway's cached
 * token went stale (a key rotation), and the gateway fetches a new one on that answer instead of
 * having every log-in counted under its own address.
 */
public final class EdgeAddress {
  public static final String SIGN_UP = "/api/members";
  public static final String LOG_IN = "/api/members/login";

  private static final SimpleGrantedAuthority EDGE =
      new SimpleGrantedAuthority(Scopes.authority(Scopes.EDGE_FORWARD));

  /** A bearer token was presented and does not verify. */
  public static final class Refused extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Refused() {
      super("the forwarding token is invalid or expired", null, false, false);
    }
  }

  private final ReactiveJwtDecoder decoder;

  public EdgeAddress(ReactiveJwtDecoder decoder) {
    this.decoder = decoder;
  }

  public Mono<String> of(ServerWebExchange exchange) {
    String socket = socket(exchange);
    Optional<String> bearer = bearer(exchange);
    if (bearer.isEmpty()) {
      return Mono.just(socket);
    }
    return decoder
        .decode(bearer.get())
        // Only a token that does not verify is the caller's problem; a failure to verify at all
        // (keys unreachable) stays a server error and must not make the gateway drop its token.
        .onErrorMap(
            org.springframework.security.oauth2.jwt.BadJwtException.class, e -> new Refused())
        .map(jwt -> Callers.authorities(jwt).contains(EDGE))
        .map(vouched -> vouched ? forwarded(exchange).orElse(socket) : socket);
  }

  private static Optional<String> bearer(ServerWebExchange exchange) {
    String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return Optional.empty();
    }
    String token = header.substring(7).trim();
    return token.isEmpty() ? Optional.empty() : Optional.of(token);
  }

  private static Optional<String> forwarded(ServerWebExchange exchange) {
    List<String> values = exchange.getRequest().getHeaders().getValuesAsList("X-Forwarded-For");
    return values.size() == 1
        ? ClientAddress.literal(values.get(0).trim()).map(InetAddress::getHostAddress)
        : Optional.empty();
  }

  private static String socket(ServerWebExchange exchange) {
    InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
    return remote == null || remote.getAddress() == null
        ? "unknown"
        : remote.getAddress().getHostAddress();
  }
}
