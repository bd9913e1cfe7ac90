package dev.citadel.member.token;

import dev.citadel.member.account.Account;
import java.time.Duration;
import java.time.Instant;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;

/** Issues RS256 JWTs whose subject is the player id. */
public final class TokenIssuer {
  /** A signed token and when it stops being valid. */
  public record Token(String value, Instant expiresAt) {}

  private final JwtEncoder encoder;
  private final String keyId;
  private final String issuer;
  private final Duration ttl;

  public TokenIssuer(JwtEncoder encoder, String keyId, String issuer, Duration ttl) {
    this.encoder = encoder;
    this.keyId = keyId;
    this.issuer = issuer;
    this.ttl = ttl;
  }

  public Token issue(Account account, Instant now) {
    Instant expires = now.plus(ttl);
    JwtClaimsSet claims =
        JwtClaimsSet.builder()
            .issuer(issuer)
            .subject(account.playerId())
            .issuedAt(now)
            .notBefore(now)
            .expiresAt(expires)
            .claim("nickname", account.nickname())
            .build();
    JwsHeader header = JwsHeader.with(SignatureAlgorithm.RS256).keyId(keyId).build();
    String value = encoder.encode(JwtEncoderParameters.from(header, claims)).getTokenValue();
    return new Token(value, expires);
  }
}
