package dev.citadel.web.security;

import org.springframework.core.MethodParameter;
import org.springframework.http.HttpStatus;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.web.reactive.BindingContext;
import org.springframework.web.reactive.result.method.HandlerMethodArgumentResolver;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** Resolves an {@link AuthenticatedPlayer} parameter from the request's verified player token. */
public final class AuthenticatedPlayerResolver implements HandlerMethodArgumentResolver {

  @Override
  public boolean supportsParameter(MethodParameter parameter) {
    return AuthenticatedPlayer.class.equals(parameter.getParameterType());
  }

  @Override
  public Mono<Object> resolveArgument(
      MethodParameter parameter, BindingContext context, ServerWebExchange exchange) {
    return ReactiveSecurityContextHolder.getContext()
        .map(SecurityContext::getAuthentication)
        .filter(JwtAuthenticationToken.class::isInstance)
        .map(a -> ((JwtAuthenticationToken) a).getToken())
        .filter(jwt -> Tokens.PLAYER.equals(jwt.getClaimAsString(Tokens.KIND)))
        .map(AuthenticatedPlayerResolver::player)
        .switchIfEmpty(
            Mono.error(
                () ->
                    new ResponseStatusException(HttpStatus.FORBIDDEN, "a player token is needed")));
  }

  private static Object player(Jwt jwt) {
    String nickname = jwt.getClaimAsString(Tokens.NICKNAME);
    return new AuthenticatedPlayer(jwt.getSubject(), nickname == null ? "" : nickname);
  }
}
