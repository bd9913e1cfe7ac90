package dev.citadel.web.security;

import java.util.ArrayList;
import java.util.List;
import org.springframework.core.convert.converter.Converter;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import reactor.core.publisher.Mono;

/**
 * Who a verified token speaks for, as Spring Security authorities: {@value #PLAYER_ROLE} for a
 * player; {@value #SERVICE_ROLE} and one {@code SCOPE_x} per granted scope for a service. A player
 * token never holds a scope, so every {@code /internal/**} route refuses it (403).
 */
public final class Callers implements Converter<Jwt, Mono<AbstractAuthenticationToken>> {
  public static final String PLAYER_ROLE = "ROLE_PLAYER";
  public static final String SERVICE_ROLE = "ROLE_SERVICE";

  @Override
  public Mono<AbstractAuthenticationToken> convert(Jwt jwt) {
    return Mono.just(new JwtAuthenticationToken(jwt, authorities(jwt), jwt.getSubject()));
  }

  public static List<GrantedAuthority> authorities(Jwt jwt) {
    List<GrantedAuthority> authorities = new ArrayList<>();
    if (Tokens.PLAYER.equals(jwt.getClaimAsString(Tokens.KIND))) {
      authorities.add(new SimpleGrantedAuthority(PLAYER_ROLE));
    } else if (Tokens.SERVICE.equals(jwt.getClaimAsString(Tokens.KIND))) {
      authorities.add(new SimpleGrantedAuthority(SERVICE_ROLE));
      String scopes = jwt.getClaimAsString(Tokens.SCOPE);
      if (scopes != null) {
        for (String scope : scopes.trim().split("\\s+")) {
          if (!scope.isEmpty()) {
            authorities.add(new SimpleGrantedAuthority(Scopes.authority(scope)));
          }
        }
      }
    }
    return authorities;
  }
}
