package dev.citadel.gateway.apidocs;

import dev.citadel.affinity.GameStateInstances;
import dev.citadel.web.security.ApiDocsPaths;
import dev.citadel.web.security.ServiceTokens;
import java.net.URI;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.springframework.cloud.gateway.handler.predicate.PredicateDefinition;
import org.springframework.cloud.gateway.route.RouteDefinition;
import org.springframework.cloud.gateway.route.RouteDefinitionLocator;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code GET /v3/api-docs}: the public API of every service in one OpenAPI description, merged from
 * the services' own descriptions (fetched with the gateway's service token, scope {@code api.docs})
 * by the gateway's own routes, so it lists exactly what a client can call here. A route names the
 * service it describes in its {@code api-docs} metadata. Kept for a minute once built; a failure is
 * not kept (the next request tries again).
 */
@RestController
public class ApiDocsController {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ApiDocsController.class);

  /** Route metadata: the service (token audience) whose description covers the route. */
  public static final String SERVICE = "api-docs";

  static final String AFFINITY = "affinity";
  static final Duration KEEP = Duration.ofMinutes(1);
  static final Duration FETCH_TIMEOUT = Duration.ofSeconds(10);

  private final RouteDefinitionLocator definitions;
  private final GameStateInstances instances;
  private final ServiceTokens tokens;
  private final WebClient http;
  private final Mono<ObjectNode> merged;

  public ApiDocsController(
      RouteDefinitionLocator definitions, GameStateInstances instances, ServiceTokens tokens) {
    this.definitions = definitions;
    this.instances = instances;
    this.tokens = tokens;
    this.http = WebClient.create();
    this.merged =
        Mono.defer(this::build).cache(ok -> KEEP, error -> Duration.ZERO, () -> Duration.ZERO);
  }

  /** The description, or a 503 problem that says when to ask again. */
  @GetMapping(value = ApiDocsPaths.DESCRIPTION)
  public Mono<ResponseEntity<Object>> describe() {
    return merged
        .<ResponseEntity<Object>>map(
            doc -> ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(doc))
        .onErrorResume(
            Unavailable.class,
            e ->
                Mono.just(
                    ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                        .header(HttpHeaders.RETRY_AFTER, "5")
                        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                        .body(
                            ProblemDetail.forStatusAndDetail(
                                HttpStatus.SERVICE_UNAVAILABLE, e.getMessage()))));
  }

  /** A service's description could not be had. */
  static final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unavailable(String service, String why) {
      super("the description of " + service + " is unavailable: " + why, null, false, false);
    }
  }

  private Mono<ObjectNode> build() {
    return definitions
        .getRouteDefinitions()
        .collectSortedList(Comparator.comparingInt(RouteDefinition::getOrder))
        .flatMap(
            defs -> {
              List<ApiDescriptions.Route> routes =
                  defs.stream().map(ApiDocsController::route).toList();
              Map<String, List<URI>> bases = new LinkedHashMap<>();
              for (RouteDefinition d : defs) {
                Object service = d.getMetadata().get(SERVICE);
                if (service != null) {
                  bases.putIfAbsent(service.toString(), bases(d));
                }
              }
              return Flux.fromIterable(bases.entrySet())
                  .flatMap(
                      e -> fetch(e.getKey(), e.getValue()).map(doc -> Map.entry(e.getKey(), doc)))
                  .collectMap(Map.Entry::getKey, Map.Entry::getValue)
                  .map(described -> ApiDescriptions.merge(routes, described));
            });
  }

  static ApiDescriptions.Route route(RouteDefinition d) {
    Object service = d.getMetadata().get(SERVICE);
    return new ApiDescriptions.Route(
        Optional.ofNullable(service).map(Object::toString),
        values(d, "Path").stream().map(PathPatternParser.defaultInstance::parse).toList(),
        Set.copyOf(values(d, "Method")));
  }

  private static List<String> values(RouteDefinition d, String predicate) {
    return d.getPredicates().stream()
        .filter(p -> predicate.equals(p.getName()))
        .map(PredicateDefinition::getArgs)
        .flatMap(args -> args.values().stream())
        .flatMap(v -> List.of(v.split(",")).stream())
        .map(String::trim)
        .filter(v -> !v.isEmpty() && !"true".equals(v) && !"false".equals(v))
        .collect(Collectors.toList());
  }

  /** Where to ask: the route's own host, or every live instance (in turn) for an affinity route. */
  private List<URI> bases(RouteDefinition d) {
    if (d.getMetadata().containsKey(AFFINITY)) {
      return instances.healthy();
    }
    return List.of(d.getUri());
  }

  /** The first of these hosts that answers (a fresh token after a 401, see ServiceTokens). */
  private Mono<JsonNode> fetch(String service, List<URI> bases) {
    if (bases.isEmpty()) {
      return Mono.error(new Unavailable(service, "no live instance"));
    }
    WebClient client = http.mutate().filter(tokens.bearer(service)).build();
    return Flux.fromIterable(bases)
        .concatMap(
            base ->
                client
                    .get()
                    .uri(base.resolve(ApiDocsPaths.DESCRIPTION))
                    .retrieve()
                    .bodyToMono(JsonNode.class)
                    .timeout(FETCH_TIMEOUT)
                    .map(Optional::of)
                    .onErrorResume(
                        e -> {
                          log.warn("no description of {} from {}: {}", service, base, e.toString());
                          return Mono.just(Optional.empty());
                        }))
        .filter(Optional::isPresent)
        .map(Optional::get)
        .next()
        .switchIfEmpty(Mono.error(() -> new Unavailable(service, "no instance answered")));
  }
}
