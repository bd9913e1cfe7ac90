package dev.citadel.web.security;

import com.nimbusds.jose.jwk.JWKSet;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.function.Supplier;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import reactor.core.publisher.Flux;

/**
 * Token decoders pinned to RS256: {@code alg=none}, HS256 (say, "signed" with the public key as a
 * secret) and every other algorithm are refused before any key is looked at.
 */
public final class TokenDecoders {
  private TokenDecoders() {}

  /** How long fetched keys are used before they are fetched again. */
  public static final Duration KEYS_TTL = Duration.ofMinutes(5);

  /**
   * Keys from member-service's JWKS ({@link CachedJwks}: kept for {@link #KEYS_TTL}, fetched again
   * sooner only for a key id not seen yet), never fetched per request.
   */
  public static ReactiveJwtDecoder remote(
      URI jwksUri, OAuth2TokenValidator<Jwt> validator, Clock clock) {
    NimbusReactiveJwtDecoder decoder =
        NimbusReactiveJwtDecoder.withJwkSource(
                new CachedJwks(jwksUri, KEYS_TTL, Duration.ofSeconds(10), clock))
            .jwsAlgorithm(SignatureAlgorithm.RS256)
            .build();
    decoder.setJwtValidator(validator);
    return decoder;
  }

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
