package dev.citadel.web.security;

import com.nimbusds.jose.jwk.JWKSet;
import java.net.URI;
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

  /**
   * Keys from member-service's JWKS, fetched once and again only when a token names a key id not
   * seen yet (a rotation), never per request.
   */
  public static ReactiveJwtDecoder remote(URI jwksUri, OAuth2TokenValidator<Jwt> validator) {
    NimbusReactiveJwtDecoder decoder =
        NimbusReactiveJwtDecoder.withJwkSetUri(jwksUri.toString())
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
