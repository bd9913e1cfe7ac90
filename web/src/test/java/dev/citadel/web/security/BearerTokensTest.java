package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpHeaders;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.security.core.Authentication;
import org.springframework.security.oauth2.server.resource.authentication.BearerTokenAuthenticationToken;
import org.springframework.security.oauth2.server.resource.web.server.authentication.ServerBearerTokenAuthenticationConverter;
import org.springframework.security.web.server.authentication.ServerAuthenticationConverter;
import reactor.core.publisher.Mono;

class BearerTokensTest {
  private static final String JWT =
      "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwbGF5ZXIifQ.c2lnbmF0dXJlLWJ5dGVz-_~+/";

  /** What a converter made of one request: the token, the error, or nothing. */
  private static String outcome(ServerAuthenticationConverter converter, MockServerWebExchange e) {
    Mono<String> read =
        converter
            .convert(e)
            .map(a -> "token " + ((BearerTokenAuthenticationToken) a).getToken())
            .defaultIfEmpty("none");
    return read.onErrorResume(x -> Mono.just("error " + x.getMessage())).block();
  }

  private static MockServerWebExchange request(List<String> authorization, String query) {
    MockServerHttpRequest.BaseBuilder<?> r =
        MockServerHttpRequest.get("/api/game/players/me" + (query == null ? "" : "?" + query));
    authorization.forEach(v -> r.header(HttpHeaders.AUTHORIZATION, v));
    return MockServerWebExchange.from(r);
  }

  @Test
  void every_header_is_read_as_springs_converter_reads_it() {
    BearerTokens ours = new BearerTokens(Set.of("/ws"));
    ServerBearerTokenAuthenticationConverter spring =
        new ServerBearerTokenAuthenticationConverter();
    List<List<String>> headers = new ArrayList<>();
    for (String v :
        new String[] {
          "Bearer " + JWT,
          "bearer " + JWT,
          "BEARER " + JWT + "==",
          "Bearer ",
          "Bearer",
          "Bearer  " + JWT,
          "Bearer " + JWT + " x",
          "Bearer ===",
          "Bearer a=b",
          "Bearer=" + JWT,
          "Bearerx" + JWT,
          "Basic dXNlcjpwYXNz",
          "Bearer " + JWT + "\n",
          "Bearer tökén",
          ""
        }) {
      headers.add(List.of(v));
    }
    headers.add(List.of());
    headers.add(List.of("Bearer " + JWT, "Bearer other"));
    headers.add(List.of("Basic dXNlcjpwYXNz", "Bearer " + JWT));
    for (List<String> h : headers) {
      for (String query : Arrays.asList(null, "access_token=" + JWT)) {
        assertThat(outcome(ours, request(h, query)))
            .as("%s, query %s", h, query)
            .isEqualTo(outcome(spring, request(h, query)));
      }
    }
  }

  @Test
  void a_well_formed_header_is_read_without_springs_converter_and_nothing_else_is() {
    assertThat(BearerTokens.wellFormed("Bearer " + JWT)).isEqualTo(JWT);
    assertThat(BearerTokens.wellFormed("bEaReR " + JWT + "==")).isEqualTo(JWT + "==");
    for (String odd :
        new String[] {null, "", "Bearer ", "Bearer ==", "Bearer  x", "Bearer x y", "Basic x"}) {
      assertThat(BearerTokens.wellFormed(odd)).as(String.valueOf(odd)).isNull();
    }
    Authentication read =
        new BearerTokens(Set.of()).convert(request(List.of("Bearer " + JWT), null)).block();
    assertThat(((BearerTokenAuthenticationToken) read).getToken()).isEqualTo(JWT);
  }

  @Test
  void the_query_paths_still_take_a_token_from_the_query_and_anonymous_paths_none() {
    BearerTokens tokens = new BearerTokens(Set.of("/ws"), Set.of("/api/members"));
    MockServerWebExchange ws =
        MockServerWebExchange.from(MockServerHttpRequest.get("/ws?access_token=abc.def.ghi"));
    assertThat(outcome(tokens, ws)).isEqualTo("token abc.def.ghi");
    // A header and a query token on a query path: Spring's answer (two tokens), not the header's.
    MockServerWebExchange both =
        MockServerWebExchange.from(
            MockServerHttpRequest.get("/ws?access_token=abc.def.ghi")
                .header(HttpHeaders.AUTHORIZATION, "Bearer " + JWT));
    assertThat(outcome(tokens, both)).startsWith("error ").contains("multiple");
    MockServerWebExchange signUp =
        MockServerWebExchange.from(
            MockServerHttpRequest.post("/api/members")
                .header(HttpHeaders.AUTHORIZATION, "Bearer x"));
    assertThat(outcome(tokens, signUp)).isEqualTo("none");
  }
}
