package dev.citadel.gateway.config;

import dev.citadel.affinity.GameStateInstances;
import dev.citadel.gateway.affinity.AffinityFilter;
import dev.citadel.gateway.affinity.DnsInstances;
import dev.citadel.gateway.identity.ForwardingFilter;
import dev.citadel.gateway.routing.FirstMatchingRoute;
import dev.citadel.web.lifecycle.BackgroundTasks;
import dev.citadel.web.security.ClientAddress;
import dev.citadel.web.security.ServiceTokens;
import java.net.URI;
import java.security.Principal;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
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
import org.springframework.web.reactive.accept.ApiVersionStrategy;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@Configuration(proxyBeanMethods = false)
public class GatewayConfiguration {

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

  @Bean
  ForwardingFilter forwardingFilter(ClientAddress addresses, ServiceTokens tokens) {
    return new ForwardingFilter(addresses, tokens);
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
