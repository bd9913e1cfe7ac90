package dev.citadel.gateway.identity;

import dev.citadel.web.security.ClientAddress;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * What the gateway passes on about a request besides the request itself: the caller's token as it
 * came (every service verifies it on its own), and the client's address in {@code X-Forwarded-For},
 * resolved here ({@link ClientAddress}: believed only from trusted proxies) and written as the ONLY
 * entry. Whatever a client wrote in {@code X-Forwarded-*}, {@code Forwarded} or {@code X-Player-Id}
 * is dropped: no header proves anything to the services behind.
 */
public final class ForwardingFilter implements GlobalFilter, Ordered {
  static final String PLAYER_HEADER = "X-Player-Id";

  private final ClientAddress addresses;

  public ForwardingFilter(ClientAddress addresses) {
    this.addresses = addresses;
  }

  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
    String client = addresses.of(exchange.getRequest());
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
                })
            .build();
    return chain.filter(exchange.mutate().request(request).build());
  }
}
