package dev.citadel.gateway.routing;

import dev.citadel.web.security.SecurityProblems;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * A WebSocket upgrade is served on a {@code ws://} route ({@code /ws}) only. Spring Cloud Gateway
 * switches any route to WebSocket when the request asks to upgrade: it accepts the client's upgrade
 * and only then finds that the service behind (member-service's sign-up, a game command) has no
 * socket there, so every route would hold open connections for anyone who asks. Refused here,
 * before that: 400 with what is wrong.
 */
public final class UpgradeFilter implements GlobalFilter, Ordered {

  @Override
  public int getOrder() {
    // After the client's address is resolved (ForwardingFilter, first), long before the routing
    // filters (WebsocketRoutingFilter is among the last).
    return Ordered.HIGHEST_PRECEDENCE + 1;
  }

  /** Whether the request asks for a WebSocket (any other upgrade is answered as HTTP/1.1). */
  public static boolean websocket(HttpHeaders headers) {
    String upgrade = headers.getFirst(HttpHeaders.UPGRADE);
    return upgrade != null && upgrade.toLowerCase(java.util.Locale.ROOT).contains("websocket");
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
    // Only WebSocket: another upgrade (curl --http2 asks for h2c on every request) is ignored by
    // the server, and the request answered as HTTP/1.1.
    if (!websocket(exchange.getRequest().getHeaders())) {
      return chain.filter(exchange);
    }
    Route route = exchange.getAttribute(ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR);
    String scheme = route == null ? null : route.getUri().getScheme();
    if ("ws".equalsIgnoreCase(scheme) || "wss".equalsIgnoreCase(scheme)) {
      return chain.filter(exchange);
    }
    return SecurityProblems.write(
        exchange.getResponse(),
        HttpStatus.BAD_REQUEST,
        "a WebSocket upgrade is served on /ws only",
        null);
  }
}
