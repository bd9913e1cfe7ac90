package dev.citadel.gateway.config;

import dev.citadel.affinity.GameStateInstances;
import dev.citadel.gateway.affinity.AffinityFilter;
import dev.citadel.gateway.affinity.DnsInstances;
import dev.citadel.gateway.identity.ForwardingFilter;
import dev.citadel.gateway.identity.SecurityConfiguration;
import dev.citadel.gateway.routing.FirstMatchingRoute;
import dev.citadel.gateway.routing.GamePath;
import dev.citadel.web.lifecycle.BackgroundTasks;
import dev.citadel.web.security.CitadelSecurity;
import dev.citadel.web.security.ClientAddress;
import dev.citadel.web.security.KnownTokens;
import dev.citadel.web.security.ServiceTokens;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.URI;
import java.security.Principal;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.cloud.client.ServiceInstance;
import org.springframework.cloud.client.discovery.ReactiveDiscoveryClient;
import org.springframework.cloud.gateway.config.GlobalCorsProperties;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.cloud.gateway.handler.FilteringWebHandler;
import org.springframework.cloud.gateway.handler.RoutePredicateHandlerMapping;
import org.springframework.cloud.gateway.route.RouteLocator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.security.web.server.firewall.ServerWebExchangeFirewall;
import org.springframework.security.web.server.firewall.StrictServerWebExchangeFirewall;
import org.springframework.web.reactive.accept.ApiVersionStrategy;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@Configuration(proxyBeanMethods = false)
public class GatewayConfiguration {
  private static final Logger log = LoggerFactory.getLogger(GatewayConfiguration.class);

  /** The static candidate list; replaceable at run time (an operator or a test adds one). */
  public static final class StaticInstances implements Supplier<Flux<URI>> {
    private final AtomicReference<List<URI>> uris;

    StaticInstances(List<URI> uris) {
      this.uris = new AtomicReference<>(List.copyOf(uris));
    }

    public void replace(List<URI> next) {
      uris.set(List.copyOf(next));
    }

    @Override
    public Flux<URI> get() {
      return Flux.fromIterable(uris.get());
    }
  }

  /** The candidates for each kind of discovery; every kind handled (the switch is exhaustive). */
  static Supplier<Flux<URI>> candidates(
      GatewayProperties.GameState gs,
      StaticInstances staticInstances,
      Supplier<Flux<URI>> discoveryClient) {
    return switch (gs.discovery()) {
      case STATIC -> staticInstances;
      case DNS -> new DnsInstances(gs.dnsName(), gs.dnsPort());
      case DISCOVERY_CLIENT -> discoveryClient;
    };
  }

  @Bean
  StaticInstances staticInstances(GatewayProperties props) {
    return new StaticInstances(
        props.gameState().instances() == null ? List.of() : props.gameState().instances());
  }

  @Bean
  GameStateInstances gameStateInstances(
      GatewayProperties props,
      StaticInstances staticInstances,
      ObjectProvider<ReactiveDiscoveryClient> discovery) {
    GatewayProperties.GameState gs = props.gameState();
    Supplier<Flux<URI>> candidates =
        candidates(
            gs,
            staticInstances,
            () -> discovery.getObject().getInstances(gs.serviceId()).map(ServiceInstance::getUri));
    return new GameStateInstances(
        candidates, WebClient.builder().build(), gs.healthInterval(), gs.healthTimeout());
  }

  @Bean
  BackgroundTasks healthProbes(GameStateInstances instances) {
    return BackgroundTasks.of(instances::start);
  }

  /** The route lookup, without the stock one's per-request overhead (replaces it). */
  @Bean
  RoutePredicateHandlerMapping routePredicateHandlerMapping(
      FilteringWebHandler webHandler,
      RouteLocator routes,
      GlobalCorsProperties cors,
      Environment environment,
      ObjectProvider<ApiVersionStrategy> versions) {
    FirstMatchingRoute mapping = new FirstMatchingRoute(webHandler, routes, cors, environment);
    versions.ifAvailable(mapping::setApiVersionStrategy);
    return mapping;
  }

  /**
   * A verified player's game request past the generic security chain ({@link GamePath}); {@code
   * citadel.gateway.direct-game-path=false} sends every request the generic way.
   */
  @Bean
  GamePath gamePath(
      GatewayProperties props,
      ObjectProvider<ServerWebExchangeFirewall> firewall,
      CitadelSecurity security,
      RoutePredicateHandlerMapping routes,
      FilteringWebHandler gateway,
      List<SecurityWebFilterChain> chains,
      ListableBeanFactory beans,
      ObjectProvider<MeterRegistry> meters) {
    CitadelSecurity gatewaySecurity = SecurityConfiguration.gateway(security);
    boolean enabled = props.directGamePath();
    Function<String, Mono<Jwt>> known;
    if (security.decoder() instanceof KnownTokens verified) {
      known = verified::known;
    } else {
      log.warn("the direct game path is off: the token decoder remembers no verified token");
      enabled = false;
      known = token -> Mono.empty();
    }
    GamePath path =
        new GamePath(
            enabled,
            // The one Spring Security's WebFilterChainProxy takes (the same default without one).
            firewall.getIfUnique(StrictServerWebExchangeFirewall::new),
            known,
            gatewaySecurity.callers(),
            routes,
            gateway,
            chains,
            // As the web handler takes them (an injected provider would leave this bean out).
            () -> beans.getBeanProvider(WebFilter.class).orderedStream().toList(),
            gatewaySecurity.pathsWithoutHeaderTokens());
    meters.ifAvailable(
        m ->
            FunctionCounter.builder("citadel.gateway.direct.game.requests", path, GamePath::taken)
                .description("player game requests taken past the generic security chain")
                .register(m));
    return path;
  }

  @Bean
  ForwardingFilter forwardingFilter(ClientAddress addresses, ServiceTokens tokens) {
    return new ForwardingFilter(addresses, tokens);
  }

  @Bean
  dev.citadel.gateway.identity.ClientAddressHeader clientAddressHeader() {
    return new dev.citadel.gateway.identity.ClientAddressHeader();
  }

  @Bean
  dev.citadel.gateway.routing.UpgradeFilter upgradeFilter() {
    return new dev.citadel.gateway.routing.UpgradeFilter();
  }

  @Bean
  dev.citadel.gateway.routing.WholeBodyFilter wholeBodyFilter(
      @org.springframework.beans.factory.annotation.Value("${citadel.web.max-body-size:64KB}")
          org.springframework.util.unit.DataSize max,
      @org.springframework.beans.factory.annotation.Value("${citadel.gateway.body-budget:64MB}")
          org.springframework.util.unit.DataSize budget,
      @org.springframework.beans.factory.annotation.Value(
              "${citadel.gateway.body-budget-per-client:1MB}")
          org.springframework.util.unit.DataSize perClient,
      @org.springframework.beans.factory.annotation.Value("${citadel.gateway.body-deadline:30s}")
          java.time.Duration deadline,
      ClientAddress addresses,
      ObjectProvider<MeterRegistry> meters) {
    var filter =
        new dev.citadel.gateway.routing.WholeBodyFilter(
            max, budget, perClient, deadline, addresses);
    meters.ifAvailable(
        m ->
            io.micrometer.core.instrument.Gauge.builder(
                    "citadel_gateway_body_bytes_held",
                    filter,
                    dev.citadel.gateway.routing.WholeBodyFilter::held)
                .description("Bytes held by request bodies being read before they are sent on")
                .register(m));
    return filter;
  }

  @Bean
  dev.citadel.gateway.identity.RateLimitProblems rateLimitProblems() {
    return new dev.citadel.gateway.identity.RateLimitProblems();
  }

  @Bean
  AffinityFilter affinityFilter(GameStateInstances instances) {
    return new AffinityFilter(instances);
  }

  /**
   * Rate limits count per player; anonymous requests (sign-up, log-in) per client address (IPv6 per
   * /64), which only a trusted proxy may tell (see {@link ClientAddress}).
   */
  @Bean
  KeyResolver playerKeyResolver(ClientAddress addresses) {
    return exchange ->
        exchange
            .getPrincipal()
            .map(Principal::getName)
            .map(player -> "player:" + player)
            .switchIfEmpty(
                Mono.fromSupplier(
                    () -> "ip:" + ClientAddress.bucket(addresses.of(exchange.getRequest()))));
  }
}
