package dev.citadel.gateway.affinity;

import java.net.URI;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The game-state instances a player may be routed to: the candidates (a static list, or the
 * discovery client), filtered by a readiness probe every {@code interval}.
 */
public final class GameStateInstances {
  private static final Logger log = LoggerFactory.getLogger(GameStateInstances.class);

  private final Supplier<Flux<URI>> candidates;
  private final WebClient http;
  private final Duration interval;
  private final Duration timeout;
  private volatile List<URI> healthy = List.of();

  public GameStateInstances(
      Supplier<Flux<URI>> candidates, WebClient http, Duration interval, Duration timeout) {
    this.candidates = candidates;
    this.http = http;
    this.interval = interval;
    this.timeout = timeout;
  }

  /** Ready instances, sorted: every gateway sees the same list for the same cluster. */
  public List<URI> healthy() {
    return healthy;
  }

  public Disposable start() {
    return Flux.interval(Duration.ZERO, interval)
        .onBackpressureDrop()
        .concatMap(tick -> refresh().onErrorResume(e -> Mono.empty()), 1)
        .subscribe();
  }

  /** Probes every candidate once and replaces the healthy list. */
  public Mono<List<URI>> refresh() {
    return candidates
        .get()
        .flatMap(uri -> ready(uri).filter(ok -> ok).map(ok -> uri))
        .sort(Comparator.comparing(URI::toString))
        .collectList()
        .doOnNext(
            list -> {
              if (!list.equals(healthy)) {
                log.info("game-state instances ready: {}", list);
              }
              healthy = List.copyOf(list);
            });
  }

  private Mono<Boolean> ready(URI instance) {
    return http.get()
        .uri(instance.resolve("/actuator/health/readiness"))
        .retrieve()
        .toBodilessEntity()
        .map(response -> response.getStatusCode().is2xxSuccessful())
        .timeout(timeout)
        .onErrorReturn(false);
  }
}
