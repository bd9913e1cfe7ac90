package dev.citadel.member.identity;

import dev.citadel.web.security.Tokens;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;

/** Signs player and service tokens (see {@link Tokens}) with the key ring's current key, RS256. */
public final class TokenIssuer {
  /** A signed token and when it stops being valid. */
  public record Token(String value, Instant expiresAt) {}

  private final JwtEncoder encoder;
  private final String keyId;
  private final String issuer;
  private final Duration playerTtl;
  private final Duration serviceTtl;

  public TokenIssuer(
      JwtEncoder encoder, String keyId, String issuer, Duration playerTtl, Duration serviceTtl) {
    this.encoder = encoder;
    this.keyId = keyId;
    this.issuer = issuer;
    this.playerTtl = playerTtl;
    this.serviceTtl = serviceTtl;
  }

  public Token player(String playerId, String nickname, Instant now) {
    return sign(Tokens.player(issuer, playerId, nickname, now, playerTtl));
  }

  public Token service(String clientId, String audience, Collection<String> scopes, Instant now) {
    return sign(Tokens.service(issuer, clientId, audience, scopes, now, serviceTtl));
  }

  public Duration serviceTtl() {
    return serviceTtl;
  }

  private Token sign(JwtClaimsSet claims) {
    JwsHeader header = JwsHeader.with(SignatureAlgorithm.RS256).keyId(keyId).type("JWT").build();
    String value = encoder.encode(JwtEncoderParameters.from(header, claims)).getTokenValue();
    return new Token(value, claims.getExpiresAt());
  }
}
