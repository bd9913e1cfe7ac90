package dev.citadel.web.security;

import com.nimbusds.jose.jwk.JWKSet;
import dev.citadel.web.problem.Problems;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Token decoders pinned to RS256: {@code alg=none}, HS256 (say, "signed" with the public key as a
 * secret) and every other algorithm are refused before any key is looked at.
 */
public final class TokenDecoders {
  private TokenDecoders() {}

  /** Keys no fetch has confirmed for this long (member-service unreachable) verify nothing. */
  public static final Duration KEYS_MAX_AGE = Duration.ofHours(1);

  /**
   * Keys from member-service's JWKS ({@link CachedJwks}: fetched again in the background every
   * {@code refresh}, at once for a key id not seen yet), never fetched per request; a token already
   * verified against the keys held now is not verified again ({@link VerifiedTokens}).
   */
  public static ReactiveJwtDecoder remote(
      URI jwksUri, OAuth2TokenValidator<Jwt> validator, Clock clock, Duration refresh) {
    CachedJwks keys =
        new CachedJwks(
            jwksUri,
            refresh,
            Duration.ofSeconds(10).compareTo(refresh) < 0 ? Duration.ofSeconds(10) : refresh,
            KEYS_MAX_AGE,
            clock);
    keys.prefetch();
    NimbusReactiveJwtDecoder decoder =
        NimbusReactiveJwtDecoder.withJwkSource(keys).jwsAlgorithm(SignatureAlgorithm.RS256).build();
    decoder.setJwtValidator(validator);
    VerifiedTokens verified =
        new VerifiedTokens(
            decoder, validator, clock, VERIFIED_KEPT, VERIFIED_CAPACITY, keys::current);
    // Spring's decoder passes a key source's failure on as a bare IllegalStateException (a 500);
    // as a JwtException it becomes an authentication failure SecurityProblems answers (503).
    return new KnownTokens() {
      @Override
      public Mono<Jwt> decode(String token) {
        return verified
            .decode(token)
            .onErrorMap(
                e -> Problems.cause(e, CachedJwks.KeysUnavailable.class).isPresent(),
                e -> new JwtException("no public keys to verify tokens with", e));
      }

      @Override
      public Mono<Jwt> known(String token) {
        return verified.known(token);
      }
    };
  }

  /** A verified token is verified again after this long at most (see {@link VerifiedTokens}). */
  public static final Duration VERIFIED_KEPT = Duration.ofMinutes(5);

  /** Verified tokens held per process: 2-3 KB each, so about 25 MB at most. */
  public static final int VERIFIED_CAPACITY = 10_000;

  /** Keys held in this process (member-service verifying its own tokens). */
  public static ReactiveJwtDecoder local(
      Supplier<JWKSet> keys, OAuth2TokenValidator<Jwt> validator) {
    NimbusReactiveJwtDecoder decoder =
        NimbusReactiveJwtDecoder.withJwkSource(
                jwt -> Flux.fromIterable(keys.get().toPublicJWKSet().getKeys()))
            .jwsAlgorithm(SignatureAlgorithm.RS256)
            .build();
    decoder.setJwtValidator(validator);
    return decoder;
  }
}
