package dev.citadel.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.security.web.server.authorization.AuthorizationWebFilter;
import org.springframework.security.web.server.header.HttpHeaderWriterWebFilter;
import org.springframework.security.web.server.header.XContentTypeOptionsServerHttpHeadersWriter;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Mono;

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
}
