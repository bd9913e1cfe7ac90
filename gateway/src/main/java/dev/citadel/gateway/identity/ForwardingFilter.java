package dev.citadel.gateway.identity;

import dev.citadel.web.security.ClientAddress;
import dev.citadel.web.security.ServiceTokens;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * What the gateway passes on about a request besides the request itself: the caller's token as it
 * came (every service verifies it on its own), and the client's address in {@code X-Forwarded-For},
 * resolved here ({@link ClientAddress}: believed only from trusted proxies) and written as the ONLY
 * entry. Whatever a client wrote in {@code X-Forwarded-*}, {@code Forwarded} or {@code X-Player-Id}
 * is dropped: no header proves anything to the services behind.
 *
 * <p>Anonymous requests to member-service (sign-up, log-in) also carry the gateway's own service
 * token ({@code edge.forward}): with it, member-service counts log-in attempts under the address
 * written here, and under the socket's peer without it. If the gateway has no token to give, the
 * request goes on without (throttled per gateway address then, never refused for it).
 */
public final class ForwardingFilter implements GlobalFilter, Ordered {
  private static final Logger log = LoggerFactory.getLogger(ForwardingFilter.class);
  static final String PLAYER_HEADER = "X-Player-Id";
  static final String MEMBERS = "/api/members";

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
    boolean vouch =
        exchange.getRequest().getPath().value().startsWith(MEMBERS)
            && !exchange.getRequest().getHeaders().containsHeader(HttpHeaders.AUTHORIZATION);
    Mono<Optional<String>> token =
        vouch
            ? tokens
                .token("member-service")
                .map(Optional::of)
                .onErrorResume(
                    e -> {
                      log.warn("no gateway token to vouch for client addresses: {}", e.toString());
                      return Mono.just(Optional.empty());
                    })
            : Mono.just(Optional.empty());
    return token.flatMap(
        bearer -> {
          ServerHttpRequest request =
              exchange
                  .getRequest()
                  .mutate()
                  .headers(
                      h -> {
                        h.remove(PLAYER_HEADER);
                        h.remove("Forwarded");
                        h.remove("X-Forwarded-Host");
                        h.remove("X-Forwarded-Port");
                        h.remove("X-Forwarded-Proto");
                        h.remove("X-Forwarded-Prefix");
                        h.set("X-Forwarded-For", client);
                        bearer.ifPresent(h::setBearerAuth);
                      })
                  .build();
          return chain.filter(exchange.mutate().request(request).build());
        });
  }
}
