package dev.citadel.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.cloud.gateway.support.ServerWebExchangeUtils.GATEWAY_PREDICATE_ROUTE_ATTR;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.gateway.config.GlobalCorsProperties;
import org.springframework.cloud.gateway.handler.AsyncPredicate;
import org.springframework.cloud.gateway.handler.FilteringWebHandler;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.mock.env.MockEnvironment;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class FirstMatchingRouteTest {
  private final List<String> asked = new ArrayList<>();

  private Route route(String id, AsyncPredicate<ServerWebExchange> predicate) {
    return Route.async()
        .id(id)
        .uri("http://127.0.0.1:1")
        .asyncPredicate(
            exchange -> {
              asked.add(id);
              return predicate.apply(exchange);
            })
        .build();
  }

  private static FirstMatchingRoute mapping(Route... routes) {
    return new FirstMatchingRoute(
        new FilteringWebHandler(List.of(), false),
        () -> Flux.fromArray(routes),
        new GlobalCorsProperties(),
        new MockEnvironment());
  }

  private static ServerWebExchange exchange() {
    return MockServerWebExchange.from(MockServerHttpRequest.get("/api/game/players/me"));
  }

  @Test
  void the_first_route_whose_predicate_says_yes_and_no_route_after_it() {
    FirstMatchingRoute mapping =
        mapping(
            route("no", e -> Mono.just(false)),
            route("later-yes", e -> Mono.delay(Duration.ofMillis(20)).thenReturn(true)),
            route("also-yes", e -> Mono.just(true)));
    ServerWebExchange exchange = exchange();

    StepVerifier.create(mapping.lookupRoute(exchange))
        .assertNext(r -> assertThat(r.getId()).isEqualTo("later-yes"))
        .verifyComplete();
    assertThat(asked).containsExactly("no", "later-yes");
    assertThat(exchange.<String>getAttribute(GATEWAY_PREDICATE_ROUTE_ATTR)).isEqualTo("later-yes");
  }

  @Test
  void a_predicate_that_throws_or_answers_nothing_is_no_match() {
    FirstMatchingRoute mapping =
        mapping(
            route(
                "throws",
                e -> {
                  throw new IllegalStateException("broken predicate");
                }),
            route("empty", e -> Mono.empty()),
            route("yes", e -> Mono.just(true)));

    StepVerifier.create(mapping.lookupRoute(exchange()))
        .assertNext(r -> assertThat(r.getId()).isEqualTo("yes"))
        .verifyComplete();
    assertThat(asked).containsExactly("throws", "empty", "yes");
  }

  @Test
  void no_route_matches_is_empty_and_a_failing_predicate_fails_the_lookup() {
    StepVerifier.create(mapping(route("no", e -> Mono.just(false))).lookupRoute(exchange()))
        .verifyComplete();
    StepVerifier.create(
            mapping(route("fails", e -> Mono.error(new IllegalStateException("down"))))
                .lookupRoute(exchange()))
        .verifyErrorMessage("down");
  }
}
