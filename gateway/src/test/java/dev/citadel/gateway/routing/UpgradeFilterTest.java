package dev.citadel.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.core.publisher.Mono;

class UpgradeFilterTest {
  final UpgradeFilter filter = new UpgradeFilter();

  /** Whether the request went on to the route's filters; the response as the filter left it. */
  boolean passed(String path, String routeUri, String upgrade, MockServerWebExchange[] seen) {
    MockServerHttpRequest.BaseBuilder<?> request = MockServerHttpRequest.get(path);
    if (upgrade != null) {
      request.header("Upgrade", upgrade).header("Connection", "Upgrade");
    }
    MockServerWebExchange exchange = MockServerWebExchange.from(request);
    exchange
        .getAttributes()
        .put(
            ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR,
            Route.async().id("r").uri(URI.create(routeUri)).predicate(e -> true).build());
    AtomicBoolean passed = new AtomicBoolean();
    filter
        .filter(
            exchange,
            e -> {
              passed.set(true);
              return Mono.empty();
            })
        .block();
    seen[0] = exchange;
    return passed.get();
  }

  @Test
  void an_upgrade_goes_on_only_to_a_websocket_route() {
    MockServerWebExchange[] seen = new MockServerWebExchange[1];
    assertThat(passed("/ws", "ws://game-state", "websocket", seen)).isTrue();
    assertThat(passed("/api/game/players/p1", "http://game-state", null, seen)).isTrue();
    // Not a WebSocket: the server ignores it and answers as HTTP/1.1.
    assertThat(passed("/api/game/players/p1", "http://game-state", "h2c", seen)).isTrue();

    assertThat(passed("/api/members", "http://127.0.0.1:8081", "websocket", seen)).isFalse();
    assertThat(seen[0].getResponse().getStatusCode()).isEqualTo(HttpStatus.BAD_REQUEST);
    assertThat(seen[0].getResponse().getBodyAsString().block()).contains("served on /ws only");
    assertThat(passed("/api/game/players/p1", "http://game-state", "WebSocket", seen)).isFalse();
  }
}
