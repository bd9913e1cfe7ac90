package dev.citadel.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.cloud.gateway.support.ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR;

import dev.citadel.web.security.Callers;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.context.support.StaticApplicationContext;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.web.server.MatcherSecurityWebFilterChain;
import org.springframework.security.web.server.authorization.AuthorizationWebFilter;
import org.springframework.security.web.server.firewall.StrictServerWebExchangeFirewall;
import org.springframework.security.web.server.header.HttpHeaderWriterWebFilter;
import org.springframework.security.web.server.header.XContentTypeOptionsServerHttpHeadersWriter;
import org.springframework.security.web.server.util.matcher.ServerWebExchangeMatchers;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebHandler;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** Which requests may take the direct game path, and which security chains let it run. */
class GamePathTest {
  static final String TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwIn0.c2ln";

  static MockServerHttpRequest.BaseBuilder<?> game() {
    return MockServerHttpRequest.get("/api/game/players/p1")
        .header("Authorization", "Bearer " + TOKEN);
  }

  @Test
  void a_players_game_request_with_a_well_formed_bearer_header_is_a_candidate() {
    assertThat(GamePath.candidateToken(game().build())).isEqualTo(TOKEN);
    assertThat(
            GamePath.candidateToken(
                MockServerHttpRequest.post("/api/game/players/p1/commands/x?y=1")
                    .header("Authorization", "bearer " + TOKEN)
                    .header("X-Forwarded-For", "10.0.0.1")
                    .build()))
        .isEqualTo(TOKEN);
  }

  @Test
  void anything_else_goes_the_generic_way() {
    // Another route, or a path that only looks like the prefix.
    assertThat(
            GamePath.candidateToken(
                MockServerHttpRequest.get("/api/match/queue")
                    .header("Authorization", "Bearer " + TOKEN)
                    .build()))
        .isNull();
    assertThat(
            GamePath.candidateToken(
                MockServerHttpRequest.get("/api/gamex/1")
                    .header("Authorization", "Bearer " + TOKEN)
                    .build()))
        .isNull();
    assertThat(GamePath.candidateToken(MockServerHttpRequest.get("/api/game").build())).isNull();
    // No token, another scheme, a malformed one.
    assertThat(GamePath.candidateToken(MockServerHttpRequest.get("/api/game/x").build())).isNull();
    assertThat(
            GamePath.candidateToken(
                MockServerHttpRequest.get("/api/game/x")
                    .header("Authorization", "Basic abc")
                    .build()))
        .isNull();
    assertThat(
            GamePath.candidateToken(
                MockServerHttpRequest.get("/api/game/x")
                    .header("Authorization", "Bearer a b")
                    .build()))
        .isNull();
    // Cross-origin (CORS is the generic mapping's), an upgrade.
    assertThat(GamePath.candidateToken(game().header("Origin", "https://a.example").build()))
        .isNull();
    assertThat(GamePath.candidateToken(game().header("Upgrade", "websocket").build())).isNull();
    // A header value the firewall would refuse when read (control or non-ASCII characters).
    assertThat(GamePath.candidateToken(game().header("X-Note", "caf\u00e9").build())).isNull();
    assertThat(GamePath.candidateToken(game().header("X-Note", "a\u0001b").build())).isNull();
    assertThat(GamePath.candidateToken(game().header("X-Note", "a\tb ~").build())).isEqualTo(TOKEN);
  }

  @Test
  void the_path_runs_only_with_a_security_chain_of_known_filters() {
    WebFilter writer =
        new HttpHeaderWriterWebFilter(new XContentTypeOptionsServerHttpHeadersWriter());
    WebFilter authorization = new AuthorizationWebFilter((a, e) -> Mono.empty());
    WebFilter other = (exchange, chain) -> chain.filter(exchange);
    assertThat(GamePath.partsOf(List.of(writer, authorization), List.of(other)))
        .contains(new GamePath.Parts(writer, authorization, List.of(other)));
    // No header writer, no authorization, or two: the chain is not the one this path knows.
    assertThat(GamePath.partsOf(List.of(authorization), List.of())).isEmpty();
    assertThat(GamePath.partsOf(List.of(writer), List.of())).isEmpty();
    assertThat(GamePath.partsOf(List.of(writer, authorization, authorization), List.of()))
        .isEmpty();
    // A filter it does not know (here: any other WebFilter) in the chain turns it off.
    assertThat(GamePath.partsOf(List.of(writer, authorization, other), List.of())).isEmpty();
  }

  // filter(): which way a request goes, and what it does on the way, with the parts stubbed.

  final List<String> calls = new CopyOnWriteArrayList<>();
  final AtomicBoolean grant = new AtomicBoolean(true);
  final AtomicReference<Route> mapped =
      new AtomicReference<>(route(Map.of("affinity", "game-state")));
  final AtomicReference<Function<ServerWebExchange, Mono<Void>>> answer =
      new AtomicReference<>(ex -> ex.getResponse().setComplete());

  static Route route(Map<String, Object> metadata) {
    return Route.async()
        .id("r")
        .uri(URI.create("http://game-state"))
        .predicate(e -> true)
        .metadata(metadata)
        .build();
  }

  GamePath path() {
    WebHandler gateway =
        ex ->
            ex.getPrincipal()
                .doOnNext(p -> calls.add("gateway " + p.getName()))
                .then(answer.get().apply(ex));
    HandlerMapping routes =
        ex -> {
          ex.getAttributes().put(GATEWAY_ROUTE_ATTR, mapped.get());
          return Mono.just(gateway);
        };
    WebFilter headers =
        new HttpHeaderWriterWebFilter(new XContentTypeOptionsServerHttpHeadersWriter());
    WebFilter authorization =
        new AuthorizationWebFilter((a, e) -> Mono.just(new AuthorizationDecision(grant.get())));
    Function<String, Mono<Jwt>> known =
        token ->
            token.startsWith("unknown")
                ? Mono.empty()
                : Mono.just(
                    Jwt.withTokenValue(token)
                        .header("alg", "RS256")
                        .subject(token.startsWith("svc") ? "game-server" : "p1")
                        .claim("kind", token.startsWith("svc") ? "service" : "player")
                        .build());
    GamePath[] self = new GamePath[1];
    self[0] =
        new GamePath(
            true,
            new StrictServerWebExchangeFirewall(),
            known,
            new Callers(),
            routes,
            gateway,
            List.of(
                new MatcherSecurityWebFilterChain(
                    ServerWebExchangeMatchers.anyExchange(), List.of(headers, authorization))),
            () -> List.of(self[0]),
            Set.of("/ws"));
    self[0].afterSingletonsInstantiated();
    return self[0];
  }

  MockServerWebExchange send(GamePath path, String token) {
    MockServerWebExchange exchange =
        MockServerWebExchange.from(
            MockServerHttpRequest.get("/api/game/players/p1")
                .header("Authorization", "Bearer " + token));
    path.filter(
            exchange,
            ex -> {
              calls.add("generic");
              return Mono.empty();
            })
        .block();
    return exchange;
  }

  @Test
  void a_known_players_request_goes_to_the_route_once_with_the_chains_headers() {
    GamePath path = path();
    assertThat(path.active()).isTrue();
    MockServerWebExchange exchange = send(path, "tok");
    assertThat(calls).containsExactly("gateway p1");
    assertThat(path.taken()).isEqualTo(1);
    assertThat(exchange.getResponse().getHeaders().getFirst("X-Content-Type-Options"))
        .isEqualTo("nosniff");
  }

  @Test
  void a_denial_another_route_another_caller_or_a_token_new_here_go_the_generic_way_once() {
    GamePath path = path();
    grant.set(false);
    send(path, "tok");
    assertThat(calls).as("denied").containsExactly("generic");
    grant.set(true);
    calls.clear();
    mapped.set(route(Map.of()));
    send(path, "tok");
    assertThat(calls).as("another route").containsExactly("generic");
    mapped.set(route(Map.of("affinity", "game-state")));
    calls.clear();
    send(path, "svc-tok");
    assertThat(calls).as("a service").containsExactly("generic");
    calls.clear();
    send(path, "unknown-tok");
    assertThat(calls).as("not verified here before").containsExactly("generic");
    assertThat(path.taken()).isZero();
  }

  @Test
  void a_request_of_another_application_context_goes_the_generic_way() {
    GamePath path = path();
    path.setApplicationContext(new StaticApplicationContext()); // the gateway's own
    send(path, "tok"); // a mock exchange has no context: as the management port's, not the same
    assertThat(calls).containsExactly("generic");
    assertThat(path.taken()).isZero();
  }

  @Test
  void an_error_once_routed_is_handed_on_without_its_content_headers_and_never_sent_again() {
    GamePath path = path();
    answer.set(
        ex -> {
          ex.getResponse().getHeaders().setContentLength(42);
          ex.getResponse().getHeaders().set("Content-Type", "application/json");
          return Mono.error(new IllegalStateException("reset by peer"));
        });
    MockServerWebExchange exchange =
        MockServerWebExchange.from(
            MockServerHttpRequest.get("/api/game/players/p1").header("Authorization", "Bearer t"));
    StepVerifier.create(
            path.filter(
                exchange,
                ex -> {
                  calls.add("generic");
                  return Mono.empty();
                }))
        .expectErrorMessage("reset by peer")
        .verify();
    assertThat(calls).containsExactly("gateway p1");
    assertThat(exchange.getResponse().getHeaders().getContentLength()).isEqualTo(-1);
    assertThat(exchange.getResponse().getHeaders().getContentType()).isNull();
  }

  @Test
  void off_when_a_game_path_reads_no_bearer_header() {
    GamePath[] self = new GamePath[1];
    self[0] =
        new GamePath(
            true,
            new StrictServerWebExchangeFirewall(),
            t -> Mono.empty(),
            new Callers(),
            ex -> Mono.empty(),
            ex -> Mono.empty(),
            List.of(
                new MatcherSecurityWebFilterChain(
                    ServerWebExchangeMatchers.anyExchange(),
                    List.of(
                        new HttpHeaderWriterWebFilter(
                            new XContentTypeOptionsServerHttpHeadersWriter()),
                        new AuthorizationWebFilter((a, e) -> Mono.empty())))),
            () -> List.of(self[0]),
            Set.of("/api/game/ws"));
    self[0].afterSingletonsInstantiated();
    assertThat(self[0].active()).isFalse();
  }
}
