package dev.citadel.web.security;

import java.util.HashSet;
import java.util.Set;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.context.NoOpServerSecurityContextRepository;

/**
 * The security every service's HTTP edge shares: stateless (no session, no CSRF token: callers
 * present a bearer token on every request), tokens verified here with {@link TokenDecoders}, the
 * caller's authorities from {@link Callers}, errors from {@link SecurityProblems}. Each service
 * adds only its own route rules.
 */
public final class CitadelSecurity {
  private final ReactiveJwtDecoder decoder;
  private final Set<String> queryTokenPaths;
  private final Set<String> anonymousPaths;
  private final boolean publicApiDocs;
  private final Callers callers = new Callers();

  public CitadelSecurity(ReactiveJwtDecoder decoder, Set<String> queryTokenPaths) {
    this(decoder, queryTokenPaths, Set.of(), false);
  }

  private CitadelSecurity(
      ReactiveJwtDecoder decoder,
      Set<String> queryTokenPaths,
      Set<String> anonymousPaths,
      boolean publicApiDocs) {
    this.decoder = decoder;
    this.queryTokenPaths = Set.copyOf(queryTokenPaths);
    this.anonymousPaths = Set.copyOf(anonymousPaths);
    this.publicApiDocs = publicApiDocs;
  }

  /**
   * The same, reading no token at all on these exact paths (routes everyone may call): the route
   * itself decides what a token there is worth, and a stale or foreign one is never a 401.
   */
  public CitadelSecurity withoutTokensOn(Set<String> paths) {
    return new CitadelSecurity(decoder, queryTokenPaths, paths, publicApiDocs);
  }

  /**
   * The same, with the API description and its UI open to everyone (the gateway's merged one). A
   * service's own description is for callers with the {@code api.docs} scope: it lists its internal
   * routes too.
   */
  public CitadelSecurity withPublicApiDocs() {
    return new CitadelSecurity(decoder, queryTokenPaths, anonymousPaths, true);
  }

  public ReactiveJwtDecoder decoder() {
    return decoder;
  }

  /** What a verified token's caller may do: the converter this security's chains use. */
  public Callers callers() {
    return callers;
  }

  /**
   * The paths where a token is not read from the bearer header alone: none at all (the anonymous
   * and open-description paths) or also from the query.
   */
  public Set<String> pathsWithoutHeaderTokens() {
    Set<String> paths = new HashSet<>(tokenFreePaths());
    paths.addAll(queryTokenPaths);
    return Set.copyOf(paths);
  }

  /** Where no token is read: the given paths, and the open description where it is open. */
  private Set<String> tokenFreePaths() {
    if (!publicApiDocs) {
      return anonymousPaths;
    }
    Set<String> paths = new HashSet<>(anonymousPaths);
    paths.add(ApiDocsPaths.DESCRIPTION);
    return paths;
  }

  /**
   * A service's usual rules: its own first ({@code routes}: each internal route by its scope, and
   * anything open), then every other {@code /internal/**} path denied, the player routes for
   * players only, anything else for any verified caller.
   */
  public SecurityWebFilterChain serviceChain(
      ServerHttpSecurity http,
      Customizer<ServerHttpSecurity.AuthorizeExchangeSpec> routes,
      String... playerPaths) {
    return chain(
        http,
        a -> {
          routes.customize(a);
          a.pathMatchers("/internal/**")
              .denyAll()
              .pathMatchers(playerPaths)
              .hasAuthority(Callers.PLAYER_ROLE)
              .anyExchange()
              .authenticated();
        });
  }

  /**
   * @param routes who may call what; the probes ({@code /livez}, {@code /readyz} on the service
   *     port, {@code /actuator/**} on the management port) are open, everything else is the
   *     service's to say
   */
  public SecurityWebFilterChain chain(
      ServerHttpSecurity http, Customizer<ServerHttpSecurity.AuthorizeExchangeSpec> routes) {
    return http.csrf(ServerHttpSecurity.CsrfSpec::disable)
        .httpBasic(ServerHttpSecurity.HttpBasicSpec::disable)
        .formLogin(ServerHttpSecurity.FormLoginSpec::disable)
        .logout(ServerHttpSecurity.LogoutSpec::disable)
        .requestCache(ServerHttpSecurity.RequestCacheSpec::disable)
        .securityContextRepository(NoOpServerSecurityContextRepository.getInstance())
        .authorizeExchange(
            a -> {
              a.pathMatchers("/livez", "/readyz").permitAll();
              // Served only on the management port, which is never routed nor exposed (and where
              // this chain applies too): Prometheus and the probes reach it, callers cannot.
              a.pathMatchers("/actuator/**").permitAll();
              if (publicApiDocs) {
                a.pathMatchers(HttpMethod.GET, ApiDocsPaths.PUBLIC).permitAll();
              } else {
                a.pathMatchers(ApiDocsPaths.PUBLIC).hasAuthority(Scopes.authority(Scopes.API_DOCS));
              }
              routes.customize(a);
            })
        .oauth2ResourceServer(
            o ->
                o.bearerTokenConverter(new BearerTokens(queryTokenPaths, tokenFreePaths()))
                    .authenticationEntryPoint(SecurityProblems.unauthorized())
                    .authenticationFailureHandler(SecurityProblems.failed())
                    .accessDeniedHandler(SecurityProblems.forbidden())
                    .jwt(jwt -> jwt.jwtDecoder(decoder).jwtAuthenticationConverter(callers)))
        .exceptionHandling(
            e ->
                e.authenticationEntryPoint(SecurityProblems.unauthorized())
                    .accessDeniedHandler(SecurityProblems.forbidden()))
        .build();
  }
}
