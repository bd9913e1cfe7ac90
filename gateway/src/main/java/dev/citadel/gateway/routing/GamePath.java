package dev.citadel.gateway.routing;

import static org.springframework.cloud.gateway.support.ServerWebExchangeUtils.GATEWAY_ROUTE_ATTR;

import dev.citadel.gateway.affinity.AffinityFilter;
import dev.citadel.web.security.BearerTokens;
import dev.citadel.web.security.Callers;
import dev.citadel.web.security.KnownTokens;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.cloud.gateway.route.Route;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.core.Ordered;
import org.springframework.core.convert.converter.Converter;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.WebFilterChainProxy;
import org.springframework.security.web.server.authentication.AuthenticationWebFilter;
import org.springframework.security.web.server.authorization.AuthorizationWebFilter;
import org.springframework.security.web.server.authorization.ExceptionTranslationWebFilter;
import org.springframework.security.web.server.context.ReactorContextWebFilter;
import org.springframework.security.web.server.context.SecurityContextServerWebExchangeWebFilter;
import org.springframework.security.web.server.firewall.ServerExchangeRejectedException;
import org.springframework.security.web.server.firewall.ServerWebExchangeFirewall;
import org.springframework.security.web.server.header.HttpHeaderWriterWebFilter;
import org.springframework.security.web.server.savedrequest.ServerRequestCacheWebFilter;
import org.springframework.web.method.ControllerAdviceBean;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.server.WebHandler;
import org.springframework.web.server.handler.DefaultWebFilterChain;
import reactor.core.publisher.Mono;

/**
 * The request players send most, a verified player's call on {@code /api/game/**}, taken to the
 * route's filters (rate limit, owner, forwarding, proxy: Spring Cloud Gateway's, unchanged) past
 * Spring Security's filter chain proxy, its firewall's header wrapper and the dispatcher, which
 * together cost about a quarter of the gateway's CPU a read (docs/gateway.md, docs/benchmarks.md).
 * For this one shape of request their outcome is known, or asked of the same parts:
 *
 * <ul>
 *   <li>the firewall's checks of method, host and path run here ({@link ServerWebExchangeFirewall},
 *       the same one); its check of a header value when read is replaced by a stricter one of all
 *       of them here (printable ASCII); query parameters, which nothing on this path reads, are not
 *       checked;
 *   <li>only a token the gateway's decoder verified before and still holds ({@link
 *       KnownTokens#known}: same key set, validated now) is taken; its authorities are {@link
 *       Callers}', and a caller who is not a player goes the generic way;
 *   <li>then, in the security chain's order: its own header writer, its own authorization filter
 *       (the authentication in the Reactor context as Spring Security puts it), the other web
 *       filters after this one (all but Spring Security's proxy), the gateway's own route lookup,
 *       and only for the game-state route (owner affinity) Spring Cloud Gateway's handler; an error
 *       is handed on as the dispatcher hands it on.
 * </ul>
 *
 * Anything else (no token or another kind of token, a token not verified here before, one that no
 * longer validates, a request the firewall refuses or the rules deny, a cross-origin or upgrade
 * request, another route, the management port) goes the generic way, before anything is sent: this
 * path only lets through what the generic one would, and every security refusal keeps its one
 * source. A token is verified once either way. The security chain is checked at start: a filter of
 * a kind this class does not know (someone adds CORS to it) turns the path off, logged; a known one
 * configured otherwise (a session repository instead of none) is not seen.
 *
 * <p>One unit on purpose (over 300 lines): every decision that keeps this path equal to the generic
 * one sits beside the part of it that it replaces.
 */
public final class GamePath
    implements WebFilter, Ordered, SmartInitializingSingleton, ApplicationContextAware {
  private static final Logger log = LoggerFactory.getLogger(GamePath.class);

  public static final String PREFIX = "/api/game/";

  /** What the gateway's security chain holds, each either done here or a no-op for this request. */
  static final Set<String> KNOWN_FILTERS =
      Set.of(
          // the exchange in the Reactor context (a private class of ServerHttpSecurity): only
          // Spring Security's OAuth2 client reads it there, and the gateway has none
          "org.springframework.security.config.web.server.ServerHttpSecurity"
              + "$ServerWebExchangeReactorContextWebFilter",
          HttpHeaderWriterWebFilter.class.getName(), // run here
          ReactorContextWebFilter.class.getName(), // a stateless (no-op) context repository
          AuthenticationWebFilter.class.getName(), // done here (see above)
          SecurityContextServerWebExchangeWebFilter.class.getName(), // the principal: set here
          ServerRequestCacheWebFilter.class.getName(), // request cache disabled (no-op)
          ExceptionTranslationWebFilter.class.getName(), // turns a denial into 401/403: fallback
          AuthorizationWebFilter.class.getName()); // run here

  /** Controller advice for every handler that no route's error can reach. */
  static final Set<String> KNOWN_ADVICE =
      Set.of(
          // springdoc's: handles only its own OpenApiResourceNotFoundException
          "org.springdoc.core.configuration.SpringDocConfiguration$OpenApiResourceAdvice");

  /** The parts of Spring Security's chain run here, and the other web filters after this one. */
  record Parts(WebFilter headers, WebFilter authorization, List<WebFilter> others) {}

  private final boolean enabled;
  private final ServerWebExchangeFirewall firewall;
  private final Function<String, Mono<Jwt>> known;
  private final Converter<Jwt, Mono<AbstractAuthenticationToken>> callers;
  private final HandlerMapping routes;
  private final WebHandler gateway;
  private final List<SecurityWebFilterChain> security;
  private final Supplier<List<WebFilter>> webFilters;
  private final Set<String> pathsWithoutHeaderTokens;
  private volatile Optional<Parts> parts = Optional.empty();
  private volatile ApplicationContext context;
  private final LongAdder taken = new LongAdder();

  /**
   * @param known the player's token as the decoder verified it before and holds it now, or empty
   * @param callers the security chain's converter from a verified token to its caller
   * @param routes the gateway's route lookup
   * @param gateway what serves a route (Spring Cloud Gateway's filtering web handler)
   * @param security the security chains in force (the path runs only with exactly one, of known
   *     filters)
   * @param webFilters every web filter, in order (asked once, after start)
   * @param pathsWithoutHeaderTokens where the chain reads no token, or one in the query (none may
   *     be a game path)
   */
  public GamePath(
      boolean enabled,
      ServerWebExchangeFirewall firewall,
      Function<String, Mono<Jwt>> known,
      Converter<Jwt, Mono<AbstractAuthenticationToken>> callers,
      HandlerMapping routes,
      WebHandler gateway,
      List<SecurityWebFilterChain> security,
      Supplier<List<WebFilter>> webFilters,
      Set<String> pathsWithoutHeaderTokens) {
    this.enabled = enabled;
    this.firewall = firewall;
    this.known = known;
    this.routes = routes;
    this.gateway = gateway;
    this.security = List.copyOf(security);
    this.webFilters = webFilters;
    this.pathsWithoutHeaderTokens = Set.copyOf(pathsWithoutHeaderTokens);
    this.callers = callers;
  }

  @Override
  public void setApplicationContext(ApplicationContext context) {
    this.context = context;
  }

  /**
   * Looks at the chain once, at start; until then (and when it is off) all goes the generic way.
   */
  @Override
  public void afterSingletonsInstantiated() {
    if (!enabled) {
      return;
    }
    if (security.size() != 1) {
      log.warn("the direct game path is off: {} security chains", security.size());
      return;
    }
    if (pathsWithoutHeaderTokens.stream().anyMatch(p -> p.startsWith(PREFIX))) {
      log.warn("the direct game path is off: a path under {} reads no bearer header", PREFIX);
      return;
    }
    List<Class<?>> everyHandler =
        context == null
            ? List.of()
            : ControllerAdviceBean.findAnnotatedBeans(context).stream()
                .filter(advice -> advice.isApplicableToBeanType(null))
                .<Class<?>>map(ControllerAdviceBean::getBeanType)
                .filter(type -> type == null || !KNOWN_ADVICE.contains(type.getName()))
                .toList();
    if (!everyHandler.isEmpty()) {
      // The dispatcher would hand a route's error (a handler of no controller type) to such advice;
      // this path does not. (Advice for given controllers only, as springdoc's, never sees it.)
      log.warn(
          "the direct game path is off: controller advice for every handler: {}", everyHandler);
      return;
    }
    List<WebFilter> all = webFilters.get();
    int at = all.indexOf(this);
    if (at < 0) {
      log.warn("the direct game path is off: it is not among the web filters {}", all);
      return;
    }
    List<WebFilter> others =
        all.subList(at + 1, all.size()).stream()
            .filter(f -> !(f instanceof WebFilterChainProxy))
            .toList();
    // A list held in memory (Flux.fromIterable): answered at once, here.
    security
        .get(0)
        .getWebFilters()
        .collectList()
        .subscribe(
            chain -> parts = partsOf(chain, others),
            e -> log.warn("the direct game path is off: the security chain's filters failed", e));
  }

  /** The chain's header writer and authorization, or empty (the path off) for a chain not known. */
  static Optional<Parts> partsOf(List<WebFilter> chain, List<WebFilter> others) {
    Set<String> unknown =
        chain.stream()
            .map(f -> f.getClass().getName())
            .filter(c -> !KNOWN_FILTERS.contains(c))
            .collect(Collectors.toCollection(TreeSet::new));
    Optional<WebFilter> headers =
        chain.stream().filter(f -> f instanceof HttpHeaderWriterWebFilter).findFirst();
    List<WebFilter> authorization =
        chain.stream().filter(f -> f instanceof AuthorizationWebFilter).toList();
    if (!unknown.isEmpty() || headers.isEmpty() || authorization.size() != 1) {
      log.warn(
          "the direct game path is off: the security chain holds {} (known: {});"
              + " every request goes the generic way",
          unknown.isEmpty() ? "no header writer or not one authorization filter" : unknown,
          new TreeSet<>(KNOWN_FILTERS));
      return Optional.empty();
    }
    log.info(
        "the direct game path is on; the other web filters it runs: {}",
        others.stream().map(f -> f.getClass().getName()).toList());
    return Optional.of(new Parts(headers.get(), authorization.get(0), List.copyOf(others)));
  }

  @Override
  public int getOrder() {
    // Right after RateLimitProblems (which words the rate limiter's 429), before everything else.
    return Ordered.HIGHEST_PRECEDENCE + 1;
  }

  /** Whether requests may take this path: enabled, and the security chain one it knows. */
  public boolean active() {
    return parts.isPresent();
  }

  /**
   * Requests taken this way since start (a metric, and how tests know which way a request went).
   */
  public long taken() {
    return taken.sum();
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    Optional<Parts> found = parts;
    String token =
        found.isPresent() && exchange.getApplicationContext() == context
            ? candidateToken(exchange.getRequest())
            : null; // (the management port's context: the generic way)
    if (token == null) {
      return chain.filter(exchange);
    }
    return firewalled(exchange)
        .flatMap(allowed -> allowed ? player(token) : Mono.just(Optional.<Authentication>empty()))
        .flatMap(
            player ->
                player.isEmpty()
                    ? chain.filter(exchange)
                    : direct(exchange, chain, found.get(), player.get()));
  }

  /**
   * The bearer token of a request that may go this way, or null: a game path, a well-formed bearer
   * header, no cross-origin or upgrade request, header values in printable ASCII.
   */
  static String candidateToken(ServerHttpRequest request) {
    String path = request.getURI().getRawPath();
    if (path == null || !path.startsWith(PREFIX)) {
      return null;
    }
    HttpHeaders headers = request.getHeaders();
    if (headers.containsHeader(HttpHeaders.ORIGIN) || headers.containsHeader(HttpHeaders.UPGRADE)) {
      return null;
    }
    for (var header : headers.headerSet()) {
      for (String value : header.getValue()) {
        if (!printable(value)) {
          return null;
        }
      }
    }
    return BearerTokens.wellFormed(headers.getFirst(HttpHeaders.AUTHORIZATION));
  }

  private static boolean printable(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if ((c < 0x20 && c != '\t') || c > 0x7e) {
        return false;
      }
    }
    return true;
  }

  /** Whether the firewall lets the request in (its checks of method, host and path). */
  private Mono<Boolean> firewalled(ServerWebExchange exchange) {
    return firewall
        .getFirewalledExchange(exchange)
        .map(checked -> true)
        .onErrorReturn(ServerExchangeRejectedException.class, false);
  }

  /** A player's authentication from a token verified before, or empty for anything else. */
  private Mono<Optional<Authentication>> player(String token) {
    return known
        .apply(token)
        .flatMap(callers::convert)
        .map(
            auth ->
                auth.getAuthorities().stream()
                        .map(GrantedAuthority::getAuthority)
                        .anyMatch(Callers.PLAYER_ROLE::equals)
                    ? Optional.<Authentication>of(auth)
                    : Optional.<Authentication>empty())
        .defaultIfEmpty(Optional.empty());
  }

  /**
   * In the generic chain's order: its header writer, its authorization, the other web filters, the
   * route. A denial, or a request the mapping does not send to the game-state route, goes the
   * generic way before anything is sent; nothing falls back once the route's filters have started.
   */
  private Mono<Void> direct(
      ServerWebExchange exchange, WebFilterChain chain, Parts parts, Authentication player) {
    return Mono.defer(
        () -> {
          ServerWebExchange authenticated = exchange.mutate().principal(Mono.just(player)).build();
          AtomicBoolean routed = new AtomicBoolean();
          AtomicBoolean notHere = new AtomicBoolean();
          WebHandler route = ex -> route(ex, routed, notHere);
          return parts
              .headers()
              .filter(
                  authenticated,
                  withHeaders ->
                      parts
                          .authorization()
                          .filter(
                              withHeaders,
                              authorized ->
                                  new DefaultWebFilterChain(route, parts.others())
                                      .filter(authorized)))
              .contextWrite(ReactiveSecurityContextHolder.withAuthentication(player))
              .onErrorResume(
                  e -> e instanceof AccessDeniedException && !routed.get(),
                  denied -> chain.filter(exchange))
              .then(Mono.defer(() -> notHere.get() ? chain.filter(exchange) : Mono.empty()));
        });
  }

  /**
   * The route's filters and the proxy, when the mapping picks the game-state route; an error handed
   * on as the dispatcher hands a handler's or a mapping's on.
   */
  private Mono<Void> route(
      ServerWebExchange exchange, AtomicBoolean routed, AtomicBoolean notHere) {
    return routes
        .getHandler(exchange)
        .map(Optional::of)
        .defaultIfEmpty(Optional.empty())
        .flatMap(
            handler -> {
              Route matched = exchange.getAttribute(GATEWAY_ROUTE_ATTR);
              if (handler.orElse(null) != gateway
                  || matched == null
                  || !AffinityFilter.GAME_STATE.equals(
                      matched.getMetadata().get(AffinityFilter.METADATA_KEY))) {
                notHere.set(true);
                return Mono.<Void>empty();
              }
              routed.set(true);
              taken.increment();
              return gateway.handle(exchange);
            })
        .onErrorResume(
            e -> {
              // As RequestMappingHandlerAdapter.handleError, which the dispatcher asks for any
              // mapping's or handler's error: the error's answer sets its own content headers.
              exchange.getAttributes().remove(HandlerMapping.PRODUCIBLE_MEDIA_TYPES_ATTRIBUTE);
              if (!exchange.getResponse().isCommitted()) {
                exchange.getResponse().getHeaders().clearContentHeaders();
              }
              return Mono.error(e);
            });
  }
}
