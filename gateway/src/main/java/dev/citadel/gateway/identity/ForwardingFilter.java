package dev.citadel.gateway.identity;

import dev.citadel.web.security.ClientAddress;
import dev.citadel.web.security.RequestPaths;
import dev.citadel.web.security.SecurityProblems;
import dev.citadel.web.security.ServiceTokens;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * What the gateway passes on about a request besides the request itself: the caller's token as it
 * came (every service verifies it on its own), and the client's address in {@code X-Forwarded-For},
 * resolved here ({@link ClientAddress}: believed only from trusted proxies) and written as the ONLY
 * entry (by {@link ClientAddressHeader}, as the request leaves). Whatever a client wrote in {@code
 * X-Forwarded-*}, {@code Forwarded} or {@code X-Player-Id} is dropped: no header proves anything to
 * the services behind.
 *
 * <p>Sign-up and log-in carry the gateway's own service token ({@code edge.forward}) instead of
 * whatever the client sent: with it, member-service counts log-in attempts under the address
 * written here. Without it every player would be counted under the gateway's address and one
 * attacker could lock everyone out, so when the gateway has no token to give it answers 503 with
 * {@code Retry-After} rather than forward. A 401 {@code invalid_token} from member-service (our
 * token, not the password) drops the cached token, so the next request fetches a new one.
 */
public final class ForwardingFilter implements GlobalFilter, Ordered {
  private static final Logger log = LoggerFactory.getLogger(ForwardingFilter.class);
  static final String PLAYER_HEADER = "X-Player-Id";
  public static final String SIGN_UP = "/api/members";
  public static final String LOG_IN = "/api/members/login";
  static final String MEMBER_SERVICE = "member-service";

  private final ClientAddress addresses;
  private final ServiceTokens tokens;

  public ForwardingFilter(ClientAddress addresses, ServiceTokens tokens) {
    this.addresses = addresses;
    this.tokens = tokens;
  }

  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
    String client = addresses.of(exchange.getRequest());
    String path = RequestPaths.of(exchange.getRequest());
    if (!path.equals(SIGN_UP) && !path.equals(LOG_IN)) {
      return chain.filter(forwarded(exchange, client, null));
    }
    return tokens
        .token(MEMBER_SERVICE)
        .map(Optional::of)
        .onErrorResume(
            e -> {
              log.warn("no gateway token to vouch for client addresses: {}", e.toString());
              return Mono.just(Optional.empty());
            })
        .flatMap(
            token -> {
              if (token.isEmpty()) {
                exchange.getResponse().getHeaders().set(HttpHeaders.RETRY_AFTER, "5");
                return SecurityProblems.write(
                    exchange.getResponse(),
                    HttpStatus.SERVICE_UNAVAILABLE,
                    "sign-up and log-in are unavailable for a moment; try again",
                    null);
              }
              return chain
                  .filter(forwarded(exchange, client, token.get()))
                  .doFinally(
                      s -> {
                        HttpStatusCode status = exchange.getResponse().getStatusCode();
                        String challenge =
                            exchange.getResponse().getHeaders().getFirst("WWW-Authenticate");
                        if (status != null
                            && status.value() == 401
                            && challenge != null
                            && challenge.contains("invalid_token")) {
                          tokens.forget(MEMBER_SERVICE); // our token, not the password
                        }
                      });
            });
  }

  /**
   * The client's address as this filter resolved it, for {@link ClientAddressHeader}: Spring Cloud
   * Gateway's own header filter removes every {@code X-Forwarded-*} header (ours too) as the
   * request leaves, when its X-Forwarded handling is off as here.
   */
  public static final String CLIENT_ADDRESS = ForwardingFilter.class.getName() + ".client";

  /** The request as it goes on: our headers only, and {@code bearer} instead of the caller's. */
  private static ServerWebExchange forwarded(
      ServerWebExchange exchange, String client, String bearer) {
    exchange.getAttributes().put(CLIENT_ADDRESS, client);
    ServerHttpRequest request =
        exchange
            .getRequest()
            .mutate()
            .headers(
                h -> {
                  h.remove(PLAYER_HEADER);
                  h.remove("Forwarded");
                  // Every X-Forwarded-* a client sent (Host, Proto, Ssl, Uri, ...), whatever its
                  // case: nothing of the kind reaches a service but our own X-Forwarded-For.
                  h.headerNames().stream()
                      .filter(n -> n.regionMatches(true, 0, "X-Forwarded-", 0, 12))
                      .toList()
                      .forEach(h::remove);
                  // For this gateway's own filters; what the service receives is written by
                  // ClientAddressHeader (Spring Cloud Gateway removes this one on the way out).
                  h.set("X-Forwarded-For", client);
                  if (bearer != null) {
                    h.setBearerAuth(bearer);
                  }
                })
            .build();
    return exchange.mutate().request(request).build();
  }
}
