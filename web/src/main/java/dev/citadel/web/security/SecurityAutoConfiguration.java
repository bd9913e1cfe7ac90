package dev.citadel.web.security;

import java.time.Clock;
import java.util.Set;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.security.config.observation.SecurityObservationSettings;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.web.reactive.config.WebFluxConfigurer;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.result.method.annotation.ArgumentResolverConfigurer;

/**
 * Wires {@link SecurityProperties} into every service: the token decoder (member-service replaces
 * it with one over its own keys), {@link CitadelSecurity}, {@link ClientAddress}, {@link
 * ServiceTokens} when the service has client credentials, and the {@link AuthenticatedPlayer}
 * controller parameter. One {@link Clock} for the whole service, unless it defines its own.
 */
@AutoConfiguration
@EnableConfigurationProperties(SecurityProperties.class)
public class SecurityAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  Clock clock() {
    return Clock.systemUTC();
  }

  @Bean
  @ConditionalOnMissingBean
  ReactiveJwtDecoder citadelJwtDecoder(SecurityProperties props, Clock clock) {
    if (props.jwksUri() == null) {
      throw new IllegalStateException("citadel.security.jwks-uri is required");
    }
    return TokenDecoders.remote(
        props.jwksUri(),
        TokenValidators.of(
            props.issuer(), props.serviceName().isBlank() ? null : props.serviceName(), clock),
        clock,
        props.keysRefresh());
  }

  /**
   * No observation per security filter, per authentication and per authorization: Spring Security
   * wraps each in one by default, which costs CPU on every request and feeds nothing here (no
   * tracing, no dashboard reads them). The request's own {@code http.server.requests} stays.
   */
  @Bean
  @ConditionalOnMissingBean
  SecurityObservationSettings securityObservationSettings() {
    return SecurityObservationSettings.noObservations();
  }

  @Bean
  CitadelSecurity citadelSecurity(ReactiveJwtDecoder decoder, SecurityProperties props) {
    return new CitadelSecurity(decoder, Set.copyOf(props.queryTokenPaths()));
  }

  /**
   * A request Spring Security's firewall refuses before anything else sees it (an encoded slash or
   * dot, "..", a NUL in the path) is a 400 problem like any other bad input, not an empty 400.
   */
  @Bean
  org.springframework.security.web.server.firewall.ServerExchangeRejectedHandler
      problemForRejectedRequests() {
    return (exchange, rejected) ->
        SecurityProblems.write(
            exchange.getResponse(),
            org.springframework.http.HttpStatus.BAD_REQUEST,
            "the request's path is not allowed (encoded '/', '.', '..', or control characters)",
            null);
  }

  @Bean
  ClientAddress clientAddress(SecurityProperties props) {
    return new ClientAddress(props.trustedProxies());
  }

  @Bean
  @ConditionalOnMissingBean
  ServiceTokens serviceTokens(SecurityProperties props, Clock clock) {
    SecurityProperties.Client c = props.client();
    if (!c.id().isBlank() && !c.configured()) {
      // A service that names its client calls others (the gateway for every sign-up and log-in):
      // without its secret each such call would fail for as long as it runs. Refused at start.
      java.util.List<String> missing = new java.util.ArrayList<>();
      if (c.tokenUri() == null) {
        missing.add("token-uri");
      }
      if (c.secret().isBlank()) {
        missing.add("secret (CITADEL_SERVICE_CLIENT_SECRET)");
      }
      throw new IllegalStateException(
          "citadel.security.client.id is "
              + c.id()
              + " but its "
              + String.join(" and ", missing)
              + (missing.size() == 1 ? " is" : " are")
              + " not set: this service could not call the services it needs");
    }
    if (!c.configured()) {
      // A service that calls no other (no client id) never asks.
      return new ServiceTokens(WebClient.create(), null, "", "", clock);
    }
    return new ServiceTokens(WebClient.create(), c.tokenUri(), c.id(), c.secret(), clock);
  }

  @Bean
  WebFluxConfigurer authenticatedPlayerParameter() {
    return new WebFluxConfigurer() {
      @Override
      public void configureArgumentResolvers(ArgumentResolverConfigurer configurer) {
        configurer.addCustomResolver(new AuthenticatedPlayerResolver());
      }
    };
  }
}
