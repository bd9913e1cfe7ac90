package dev.citadel.web.security;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;

/**
 * The two kinds of access token and what they carry. Both are RS256 JWTs signed by member-service
 * with {@code iss}, {@code sub}, {@code aud}, {@code iat}, {@code nbf}, {@code exp} and {@code
 * jti}; {@value #KIND} tells them apart, and a service accepts each kind only for its audience:
 *
 * <ul>
 *   <li>player: {@code sub} is the player id, {@code aud} is {@value #PLAYER_AUDIENCE} (the public
 *       API of every service), {@code nickname};
 *   <li>service: {@code sub} is the client id (a service or a game server), {@code aud} is the ONE
 *       service it may call, {@code scope} the space-separated scopes granted there.
 * </ul>
 */
public final class Tokens {
  public static final String KIND = "kind";
  public static final String PLAYER = "player";
  public static final String SERVICE = "service";
  public static final String PLAYER_AUDIENCE = "citadel";
  public static final String NICKNAME = "nickname";
  public static final String SCOPE = "scope";
  public static final String CLIENT_ID = "client_id";

  private Tokens() {}

  /** A player's access token. */
  public static JwtClaimsSet player(
      String issuer, String playerId, String nickname, Instant now, Duration ttl) {
    return base(issuer, playerId, List.of(PLAYER_AUDIENCE), now, ttl)
        .claim(KIND, PLAYER)
        .claim(NICKNAME, nickname)
        .build();
  }

  /** A service token: {@code clientId} may call {@code audience} with {@code scopes}. */
  public static JwtClaimsSet service(
      String issuer,
      String clientId,
      String audience,
      Collection<String> scopes,
      Instant now,
      Duration ttl) {
    return base(issuer, clientId, List.of(audience), now, ttl)
        .claim(KIND, SERVICE)
        .claim(CLIENT_ID, clientId)
        .claim(SCOPE, String.join(" ", scopes))
        .build();
  }

  private static JwtClaimsSet.Builder base(
      String issuer, String subject, List<String> audience, Instant now, Duration ttl) {
    return JwtClaimsSet.builder()
        .id(UUID.randomUUID().toString())
        .issuer(issuer)
        .subject(subject)
        .audience(audience)
        .issuedAt(now)
        .notBefore(now)
        .expiresAt(now.plus(ttl));
  }
}
