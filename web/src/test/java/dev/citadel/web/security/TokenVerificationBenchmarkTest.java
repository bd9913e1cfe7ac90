package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import dev.citadel.web.testing.TestIdentity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import reactor.core.publisher.Flux;

/**
 * What checking a player's token costs per request, with and without {@link VerifiedTokens}: the
 * same decoder every service uses (RS256 pinned, keys from a held JWKS, Citadel's validators), one
 * token decoded again and again as a client's requests bring it. Prints microseconds per decode and
 * the ratio. {@code ./mvnw -Pbenchmark -pl web test -Dtest=TokenVerificationBenchmarkTest}
 */
@Tag("benchmark")
class TokenVerificationBenchmarkTest {
  static final int DECODES = 20_000;

  @Test
  void a_token_seen_before_costs_a_fraction_of_verifying_it() {
    RSAKey key = TestIdentity.generateKey();
    Clock clock = Clock.systemUTC();
    String token =
        new NimbusJwtEncoder(new ImmutableJWKSet<>(new JWKSet(key)))
            .encode(
                JwtEncoderParameters.from(
                    JwsHeader.with(SignatureAlgorithm.RS256).keyId(key.getKeyID()).build(),
                    Tokens.player("citadel", "p-1", "alice", Instant.now(), Duration.ofHours(1))))
            .getTokenValue();
    JWKSet published = new JWKSet(key.toPublicJWK());
    var validator = TokenValidators.of("citadel", null, clock);
    NimbusReactiveJwtDecoder verifying =
        NimbusReactiveJwtDecoder.withJwkSource(jwt -> Flux.fromIterable(published.getKeys()))
            .jwsAlgorithm(SignatureAlgorithm.RS256)
            .build();
    verifying.setJwtValidator(validator);
    ReactiveJwtDecoder remembering =
        new VerifiedTokens(
            verifying,
            validator,
            clock,
            TokenDecoders.VERIFIED_KEPT,
            TokenDecoders.VERIFIED_CAPACITY,
            () -> published);

    double each = 0;
    double cached = 0;
    for (int round = 0; round < 3; round++) { // the first rounds warm the JIT up
      each = microsPerDecode(verifying, token);
      cached = microsPerDecode(remembering, token);
    }
    System.out.printf(
        "%nToken check per request, %,d decodes of one RS256 player token:%n"
            + "| decoder | µs per decode |%n|---|---|%n| verify every time | %.1f |%n"
            + "| VerifiedTokens (seen before) | %.2f |%nratio: %.1fx cheaper%n",
        DECODES, each, cached, each / cached);
    assertThat(cached).as("remembering is cheaper than verifying").isLessThan(each);
  }

  static double microsPerDecode(ReactiveJwtDecoder decoder, String token) {
    long start = System.nanoTime();
    for (int i = 0; i < DECODES; i++) {
      if (decoder.decode(token).block() == null) {
        throw new AssertionError("not decoded");
      }
    }
    return (System.nanoTime() - start) / 1e3 / DECODES;
  }
}
