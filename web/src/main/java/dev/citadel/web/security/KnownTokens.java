package dev.citadel.web.security;

import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import reactor.core.publisher.Mono;

/** A decoder that also answers from what it verified before, without verifying anything anew. */
public interface KnownTokens extends ReactiveJwtDecoder {
  /**
   * The token as verified before, if it is held and holds now, or empty for any other token (a
   * caller that wants a verdict on any token asks {@link #decode}).
   */
  Mono<Jwt> known(String token);
}
