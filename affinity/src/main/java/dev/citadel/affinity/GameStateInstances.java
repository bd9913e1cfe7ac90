package dev.citadel.affinity;

import java.net.URI;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 *
 * <p>A ready instance is dropped only after {@value #FAILURES_TO_DROP} failed probes in a row:
 * under load a single probe can time out, and dropping on it moved players between instances for
 * nothing, or left none at all (the gateway then answered 503 to every game request). And if every
 * known instance fails its probes at once, the gateway keeps routing to all of them ("panic mode",
 * as Envoy does): on a saturated machine the probes time out long before the instances stop
 * serving, and a request that does fail gets its own error from the proxy.
 */
public final class GameStateInstances {
  private static final Logger log = LoggerFactory.getLogger(GameStateInstances.class);

  private final Supplier<Flux<URI>> candidates;
  private final WebClient http;
  private final Duration interval;
  private final Duration timeout;
  static final int FAILURES_TO_DROP = 3;

  private volatile List<URI> healthy = List.of();
  private Map<URI, Integer> failures = Map.of();

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
        .concatMap(
            tick ->
                // Deferred: a candidate list that throws (no discovery client yet) is a failed
                // round, not the end of probing (healthy would stay as it was, for good).
                Mono.defer(this::refresh)
                    .onErrorResume(
                        e -> {
                          log.warn("probing game-state instances failed: {}", e.toString());
                          return Mono.empty();
                        }),
            1)
        .subscribe();
  }

  /** Probes every candidate once and updates the healthy list. */
  public Mono<List<URI>> refresh() {
    return candidates
        .get()
        .flatMap(uri -> ready(uri).map(ok -> Map.entry(uri, ok)))
        .collectMap(Map.Entry::getKey, Map.Entry::getValue)
        .map(
            probes -> {
              synchronized (this) {
                failures = nextFailures(failures, probes);
                List<URI> list = routable(failures);
                if (!list.equals(healthy)) {
                  log.info("game-state instances ready: {}", list);
                }
                healthy = list;
                return list;
              }
            });
  }

  /**
   * Consecutive failed probes per known instance after one round of probes; pure. Instances that
   * are no longer candidates are forgotten; one that never answered is not known yet.
   */
  static Map<URI, Integer> nextFailures(Map<URI, Integer> before, Map<URI, Boolean> probes) {
    Map<URI, Integer> next = new HashMap<>();
    probes.forEach(
        (uri, ok) -> {
          if (ok) {
            next.put(uri, 0);
          } else if (before.containsKey(uri)) {
            next.put(uri, before.get(uri) + 1);
          }
        });
    return next;
  }

  /** The instances to route to, sorted so every gateway agrees; pure. */
  static List<URI> routable(Map<URI, Integer> failures) {
    List<URI> ready =
        failures.entrySet().stream()
            .filter(e -> e.getValue() < FAILURES_TO_DROP)
            .map(Map.Entry::getKey)
            .sorted(Comparator.comparing(URI::toString))
            .toList();
    if (!ready.isEmpty()) {
      return ready;
    }
    return failures.keySet().stream().sorted(Comparator.comparing(URI::toString)).toList();
  }

  private Mono<Boolean> ready(URI instance) {
    return http.get()
        .uri(instance.resolve("/readyz"))
        .retrieve()
        .toBodilessEntity()
        .map(response -> response.getStatusCode().is2xxSuccessful())
        .timeout(timeout)
        // Not ready is this probe's answer, not an error; the reason is kept at debug level
        // (the list's changes are logged at info when they happen).
        .doOnError(e -> log.debug("{} not ready: {}", instance, e.toString()))
        .onErrorReturn(false);
  }
}
