package dev.citadel.gateway.identity;

import dev.citadel.web.security.Callers;
import dev.citadel.web.security.CitadelSecurity;
import java.util.Set;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;

/**
 * The gateway accepts player tokens only (RS256, member-service's keys, issuer, {@code exp}, {@code
 * aud} {@code citadel}), on every route but sign-up, log-in and the public keys; it refuses early
 * what every service would refuse anyway, and routes the rest by the verified player. Service
 * tokens are not for the gateway: {@code /internal/**} has no route.
 */
@Configuration(proxyBeanMethods = false)
public class SecurityConfiguration {

  /**
   * The gateway's security: no token is read on sign-up and log-in (a client's stale token must not
   * block logging in; the gateway replaces it with its own, see ForwardingFilter), the merged
   * description open. Its chain and the direct game path are both made from it.
   */
  public static CitadelSecurity gateway(CitadelSecurity citadel) {
    return citadel
        .withoutTokensOn(Set.of(ForwardingFilter.SIGN_UP, ForwardingFilter.LOG_IN))
        .withPublicApiDocs();
  }

  @Bean
  SecurityWebFilterChain security(ServerHttpSecurity http, CitadelSecurity citadel) {
    return gateway(citadel)
        .chain(
            http,
            routes ->
                routes
                    .pathMatchers(HttpMethod.POST, "/api/members", "/api/members/login")
                    .permitAll()
                    .pathMatchers(HttpMethod.GET, "/.well-known/jwks.json")
                    .permitAll()
                    .anyExchange()
                    .hasAuthority(Callers.PLAYER_ROLE));
  }
}
