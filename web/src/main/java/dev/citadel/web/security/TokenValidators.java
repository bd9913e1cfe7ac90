package dev.citadel.web.security;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2ErrorCodes;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.JwtTypeValidator;

/**
 * The checks every token passes after its RS256 signature: issuer, {@code exp} present and not
 * passed (30 s of clock skew), {@code nbf}, and kind-with-audience: a player token must be for
 * {@value Tokens#PLAYER_AUDIENCE}, a service token for this very service. Anything else (no kind,
 * no {@code aud}, another service's token) is invalid, so 401.
 */
public final class TokenValidators {
  static final Duration CLOCK_SKEW = Duration.ofSeconds(30);

  private TokenValidators() {}

  /**
   * @param serviceName the audience service tokens must name to be accepted here; null for an edge
   *     that accepts player tokens only (the gateway)
   */
  public static OAuth2TokenValidator<Jwt> of(String issuer, String serviceName, Clock clock) {
    JwtTimestampValidator time = new JwtTimestampValidator(CLOCK_SKEW);
    time.setAllowEmptyExpiryClaim(false);
    time.setClock(clock);
    JwtTypeValidator type = new JwtTypeValidator("JWT");
    type.setAllowEmpty(true);
    return new DelegatingOAuth2TokenValidator<>(
        List.of(time, type, new JwtIssuerValidator(issuer), kindAndAudience(serviceName)));
  }

  static OAuth2TokenValidator<Jwt> kindAndAudience(String serviceName) {
    return jwt -> {
      String kind = jwt.getClaimAsString(Tokens.KIND);
      List<String> audience = jwt.getAudience() == null ? List.of() : jwt.getAudience();
      if (Tokens.PLAYER.equals(kind) && audience.contains(Tokens.PLAYER_AUDIENCE)) {
        return OAuth2TokenValidatorResult.success();
      }
      if (Tokens.SERVICE.equals(kind) && serviceName != null && audience.contains(serviceName)) {
        return OAuth2TokenValidatorResult.success();
      }
      return OAuth2TokenValidatorResult.failure(
          new OAuth2Error(OAuth2ErrorCodes.INVALID_TOKEN, "not a token for this service", null));
    };
  }
}
