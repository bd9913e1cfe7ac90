package dev.citadel.gateway.affinity;

import static org.springframework.cloud.gateway.support.ServerWebExchangeUtils.GATEWAY_REQUEST_URL_ATTR;
import static org.springframework.cloud.gateway.support.ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR;

import dev.citadel.affinity.GameStateInstances;
import dev.citadel.affinity.Rendezvous;
import dev.citadel.web.security.SecurityProblems;
import java.net.URI;
import java.util.Optional;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.RouteToRequestUrlFilter;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatus;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.UriComponentsBuilder;
import reactor.core.publisher.Mono;

/**
 * Sends a request on a route with metadata {@code affinity: game-state} to the game-state instance
 * that owns the caller, chosen by rendezvous hashing of the verified player id over the ready
 * instances. Runs right after the route's URL is set, before the request is proxied.
 */
public final class AffinityFilter implements GlobalFilter, Ordered {
  public static final String METADATA_KEY = "affinity";
  public static final String GAME_STATE = "game-state";

  private final GameStateInstances instances;

  public AffinityFilter(GameStateInstances instances) {
    this.instances = instances;
  }

  @Override
  public int getOrder() {
    return RouteToRequestUrlFilter.ROUTE_TO_URL_FILTER_ORDER + 1;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
    Route route = exchange.getAttribute(GATEWAY_ROUTE_ATTR);
    if (route == null || !GAME_STATE.equals(route.getMetadata().get(METADATA_KEY))) {
      return chain.filter(exchange);
    }
    // (Not flatMap + switchIfEmpty: the routed chain completes empty, which would then answer
    // 401 on top of the response.)
    return exchange
        .getPrincipal()
        .map(p -> Optional.of(p.getName()))
        .defaultIfEmpty(Optional.empty())
        .flatMap(
            player ->
                player.isPresent()
                    ? route(exchange, chain, player.get())
                    : problem(exchange, HttpStatus.UNAUTHORIZED, "no verified player"));
  }

  private Mono<Void> route(ServerWebExchange exchange, GatewayFilterChain chain, String player) {
    Optional<URI> owner = Rendezvous.pick(player, instances.healthy(), URI::toString);
    if (owner.isEmpty()) {
      return problem(exchange, HttpStatus.SERVICE_UNAVAILABLE, "no game-state instance is ready");
    }
    URI requestUrl = exchange.getRequiredAttribute(GATEWAY_REQUEST_URL_ATTR);
    exchange.getAttributes().put(GATEWAY_REQUEST_URL_ATTR, routed(requestUrl, owner.get()));
    return chain.filter(exchange);
  }

  /**
   * The request's URL at {@code owner}: its host, port and security (an instance listed as {@code
   * https} is called over TLS, a WebSocket there as {@code wss}); path and query as they came.
   */
  static URI routed(URI requestUrl, URI owner) {
    boolean socket =
        "ws".equalsIgnoreCase(requestUrl.getScheme())
            || "wss".equalsIgnoreCase(requestUrl.getScheme());
    boolean secure =
        "https".equalsIgnoreCase(owner.getScheme()) || "wss".equalsIgnoreCase(owner.getScheme());
    return UriComponentsBuilder.fromUri(requestUrl)
        .scheme(socket ? (secure ? "wss" : "ws") : (secure ? "https" : "http"))
        .host(owner.getHost())
        .port(owner.getPort())
        .build(true)
        .toUri();
  }

  static Mono<Void> problem(ServerWebExchange exchange, HttpStatus status, String detail) {
    return SecurityProblems.write(exchange.getResponse(), status, detail, null);
  }
}
