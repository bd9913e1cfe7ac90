package dev.citadel.gateway.identity;

import java.security.Principal;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.core.Ordered;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Services trust {@value #PLAYER_HEADER}, so only the gateway may set it: whatever a client sent is
 * removed, and the verified token's subject (the player id) is put in its place.
 */
public final class IdentityFilter implements GlobalFilter, Ordered {
  public static final String PLAYER_HEADER = "X-Player-Id";

  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
    return exchange
        .getPrincipal()
        .map(Principal::getName)
        .map(player -> withPlayer(exchange, player))
        .defaultIfEmpty(withPlayer(exchange, null))
        .flatMap(chain::filter);
  }

  private static ServerWebExchange withPlayer(ServerWebExchange exchange, String player) {
    ServerHttpRequest request =
        exchange
            .getRequest()
            .mutate()
            .headers(
                h -> {
                  h.remove(PLAYER_HEADER);
                  if (player != null) {
                    h.set(PLAYER_HEADER, player);
                  }
                })
            .build();
    return exchange.mutate().request(request).build();
  }
}
