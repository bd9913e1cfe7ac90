package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import dev.citadel.web.testing.TestIdentity;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.security.authentication.AuthenticationServiceException;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.security.oauth2.server.resource.InvalidBearerTokenException;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.WebFilterChainProxy;
import org.springframework.security.web.server.WebFilterExchange;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/** What a token that could not be verified is answered with. */
class SecurityProblemsTest {

  static MockServerWebExchange failed(Exception e) {
    MockServerWebExchange exchange =
        MockServerWebExchange.from(
            MockServerHttpRequest.get("/api/x").header("Authorization", "Bearer abc"));
    WebFilterChain chain = x -> Mono.empty();
    SecurityProblems.failed()
        .onAuthenticationFailure(
            new WebFilterExchange(exchange, chain),
            e instanceof org.springframework.security.core.AuthenticationException a
                ? a
                : new AuthenticationServiceException("failed", e))
        .block();
    return exchange;
  }

  @Test
  void no_keys_to_verify_with_is_a_503_to_try_again_not_an_invalid_token() {
    MockServerWebExchange exchange =
        failed(
            new CachedJwks.KeysUnavailable(
                URI.create("http://member/jwks"), Duration.ofMillis(7_200)));

    assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(exchange.getResponse().getHeaders().getFirst("Retry-After"))
        .as("when the next fetch may be tried, rounded up")
        .isEqualTo("8");
    assertThat(exchange.getResponse().getHeaders().getFirst("WWW-Authenticate")).isNull();
    assertThat(exchange.getResponse().getBodyAsString().block())
        .contains("cannot be verified for a moment");
  }

  /** Only to be called behind the security chain. */
  @RestController
  static class Hello {
    @GetMapping("/hello")
    String hello() {
      return "hello";
    }
  }

  @Test
  void a_service_that_cannot_fetch_the_keys_answers_a_good_token_503_through_its_whole_chain()
      throws Exception {
    int closed;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closed = socket.getLocalPort(); // nothing listens there once it is closed
    }
    RSAKey key = TestIdentity.generateKey();
    String token =
        new NimbusJwtEncoder(new ImmutableJWKSet<>(new JWKSet(key)))
            .encode(
                JwtEncoderParameters.from(
                    JwsHeader.with(SignatureAlgorithm.RS256).keyId(key.getKeyID()).build(),
                    Tokens.player(
                        TestIdentity.ISSUER, "p1", "nick", Instant.now(), Duration.ofMinutes(5))))
            .getTokenValue();
    ReactiveJwtDecoder decoder =
        TokenDecoders.remote(
            URI.create("http://127.0.0.1:" + closed + "/.well-known/jwks.json"),
            TokenValidators.of(TestIdentity.ISSUER, "svc", Clock.systemUTC()),
            Clock.systemUTC(),
            Duration.ofMinutes(5));
    SecurityWebFilterChain chain =
        new CitadelSecurity(decoder, Set.of())
            .chain(ServerHttpSecurity.http(), a -> a.anyExchange().authenticated());
    WebTestClient client =
        WebTestClient.bindToController(new Hello())
            .webFilter(new WebFilterChainProxy(chain))
            .build();

    client
        .get()
        .uri("/hello")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isEqualTo(HttpStatus.SERVICE_UNAVAILABLE)
        .expectHeader()
        .value("Retry-After", v -> assertThat(Long.parseLong(v)).isBetween(1L, 10L));
  }

  @Test
  void a_failure_of_our_own_that_is_not_about_keys_is_not_blamed_on_the_token() {
    assertThatThrownBy(() -> failed(new AuthenticationServiceException("the decoder broke")))
        .as("passed on (a 500, logged), as Spring's own handler does, not a 401")
        .isInstanceOf(AuthenticationServiceException.class);
  }

  @Test
  void a_token_that_does_not_verify_is_still_a_401() {
    MockServerWebExchange exchange = failed(new InvalidBearerTokenException("bad signature"));

    assertThat(exchange.getResponse().getStatusCode()).isEqualTo(HttpStatus.UNAUTHORIZED);
    assertThat(exchange.getResponse().getHeaders().getFirst("WWW-Authenticate"))
        .contains("invalid_token");
    assertThat(exchange.getResponse().getBodyAsString().block()).doesNotContain("bad signature");
  }
}
