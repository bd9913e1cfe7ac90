package dev.citadel.gateway.identity;

import dev.citadel.gateway.config.GatewayProperties;
import java.nio.charset.StandardCharsets;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.security.oauth2.server.resource.web.server.authentication.ServerBearerTokenAuthenticationConverter;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.ServerAuthenticationEntryPoint;
import reactor.core.publisher.Mono;

/**
 * Every request needs a valid token (RS256, signed by a key from member-service's JWKS, right
 * issuer, not expired) except sign-up, log-in and health. WebSocket clients, which cannot set
 * headers in browsers, may pass the token as {@code ?access_token=}.
 */
@Configuration(proxyBeanMethods = false)
public class SecurityConfiguration {

  @Bean
  ReactiveJwtDecoder jwtDecoder(GatewayProperties props) {
    NimbusReactiveJwtDecoder decoder =
        NimbusReactiveJwtDecoder.withJwkSetUri(props.jwksUri().toString()).build();
    decoder.setJwtValidator(JwtValidators.createDefaultWithIssuer(props.issuer()));
    return decoder;
  }

  @Bean
  SecurityWebFilterChain security(ServerHttpSecurity http) {
    ServerBearerTokenAuthenticationConverter tokens =
        new ServerBearerTokenAuthenticationConverter();
    tokens.setAllowUriQueryParameter(true);
    ServerAuthenticationEntryPoint unauthorized = SecurityConfiguration::unauthorized;
    return http.csrf(ServerHttpSecurity.CsrfSpec::disable)
        .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
        .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
        .logout(ServerHttpSecurity.LogoutSpec::disable)
        .authorizeExchange(
            a ->
                a.pathMatchers(HttpMethod.POST, "/api/members", "/api/members/login")
                    .permitAll()
                    .pathMatchers("/actuator/health/**", "/actuator/health", "/actuator/prometheus")
                    .permitAll()
                    .anyExchange()
                    .authenticated())
        .oauth2ResourceServer(
            o ->
                o.bearerTokenConverter(tokens)
                    .authenticationEntryPoint(unauthorized)
                    .jwt(jwt -> {}))
        .exceptionHandling(e -> e.authenticationEntryPoint(unauthorized))
        .build();
  }

  private static Mono<Void> unauthorized(
      org.springframework.web.server.ServerWebExchange exchange,
      org.springframework.security.core.AuthenticationException e) {
    var response = exchange.getResponse();
    response.setStatusCode(HttpStatus.UNAUTHORIZED);
    response.getHeaders().set("WWW-Authenticate", "Bearer");
    response.getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
    String detail =
        (e.getMessage() == null ? "authentication required" : e.getMessage())
            .replace("\\", "\\\\")
            .replace("\"", "'");
    String body =
        "{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":\""
            + "missing or invalid token: "
            + detail
            + "\"}";
    return response.writeWith(
        Mono.just(response.bufferFactory().wrap(body.getBytes(StandardCharsets.UTF_8))));
  }
}
