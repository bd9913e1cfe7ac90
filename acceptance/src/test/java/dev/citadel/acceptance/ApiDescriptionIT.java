package dev.citadel.acceptance;

import static dev.citadel.acceptance.Platform.GATEWAY;
import static dev.citadel.acceptance.Platform.JSON;
import static dev.citadel.acceptance.Platform.get;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.citadel.acceptance.Platform.Response;
import dev.citadel.client.ApiClient;
import dev.citadel.client.ApiException;
import dev.citadel.client.api.MemberControllerApi;
import dev.citadel.client.api.PlayerControllerApi;
import dev.citadel.client.model.CredentialsRequest;
import dev.citadel.client.model.LoggedIn;
import dev.citadel.client.model.PlayerView;
import dev.citadel.client.model.SignedUp;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The API description against the routes that really exist, on the running platform: every
 * controller route of every service (read from its actuator's mappings, not from springdoc) is in
 * that service's own description and the other way round; every route the gateway forwards (by its
 * own route table) is in the gateway's merged description and the other way round, and no internal
 * route is; and the merged description is the one committed in {@code docs/api/openapi.json}, from
 * which the {@code api-client} module generates a client in the build.
 */
class ApiDescriptionIT {
  static final Path COMMITTED = Platform.ROOT.resolve("docs/api/openapi.json");

  /** A service: where it serves, where its actuator is, its token audience. */
  record Service(String audience, URI base, URI management) {}

  static final List<Service> SERVICES =
      List.of(
          new Service("member-service", Platform.MEMBER, URI.create("http://127.0.0.1:9081")),
          new Service("match-service", Platform.MATCH, URI.create("http://127.0.0.1:9082")),
          new Service("game-state", Platform.GAME_STATE_A, URI.create("http://127.0.0.1:9083")));

  @BeforeAll
  static void start() {
    Platform.started();
  }

  @Test
  void each_service_describes_exactly_its_routes() {
    String player = Platform.newPlayer().token();
    for (Service s : SERVICES) {
      Response refused = get(s.base(), "/v3/api-docs", player);
      assertThat(refused.status())
          .as("%s: a player token %s", s.audience(), refused)
          .isEqualTo(403);
      Set<String> routes = controllerRoutes(s.management());
      JsonNode own = described(s);
      assertThat(operations(own))
          .as("%s: its description against its controllers' routes", s.audience())
          .isEqualTo(routes);
    }
  }

  @Test
  void the_gateway_describes_exactly_what_it_forwards() throws IOException {
    Response docs = get(GATEWAY, "/v3/api-docs", null);
    assertThat(docs.status()).as("%s", docs).isEqualTo(200);
    JsonNode merged = docs.json();

    Response table =
        get(URI.create("http://127.0.0.1:9080"), "/actuator/gateway/routedefinitions", null);
    assertThat(table.status()).as("%s", table).isEqualTo(200);
    JsonNode routes = table.json();
    Set<String> forwarded = new TreeSet<>();
    for (Service s : SERVICES) {
      for (String route : controllerRoutes(s.management())) {
        if (forwardedTo(routes, route).filter(s.audience()::equals).isPresent()) {
          forwarded.add(route);
        }
      }
    }
    assertThat(forwarded).as("the gateway forwards some routes: %s", routes).isNotEmpty();
    assertThat(operations(merged))
        .as("the merged description against the forwarded routes")
        .isEqualTo(forwarded);
    // Sign-up, log-in and the keys are open: their operations say so (no bearer token).
    assertThat(merged.path("paths").path("/api/members").path("post").path("security").isArray())
        .isTrue();
    assertThat(merged.path("paths").path("/api/members").path("post").path("security").size())
        .isZero();
    assertThat(merged.path("paths").fieldNames())
        .toIterable()
        .noneMatch(p -> p.startsWith("/internal"));

    String served =
        JSON.writerWithDefaultPrettyPrinter()
                .with(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                .writeValueAsString(JSON.treeToValue(merged, Object.class))
            + "\n";
    String committed = Files.exists(COMMITTED) ? Files.readString(COMMITTED) : "";
    if (!served.equals(committed)) {
      Path fresh = Path.of("target/openapi.json");
      Files.writeString(fresh, served);
      throw new AssertionError(
          "docs/api/openapi.json is not what the gateway serves: the served one is in "
              + fresh.toAbsolutePath()
              + "; copy it over the committed one (the api-client module generates from it)");
    }
  }

  @Test
  void the_gateway_serves_a_browsable_ui_of_the_merged_description() {
    Response page = get(GATEWAY, "/swagger-ui.html", null);
    assertThat(page.status()).as("%s", page).isBetween(300, 399);
    String location = page.header("Location");
    assertThat(location).contains("swagger-ui/index.html");
    Response index = get(GATEWAY, location, null);
    assertThat(index.status()).as("%s", index).isEqualTo(200);
    assertThat(index.body()).containsIgnoringCase("swagger");
    Response config = get(GATEWAY, "/v3/api-docs/gateway/swagger-config", null);
    assertThat(config.status()).as("%s", config).isEqualTo(200);
    assertThat(config.json().path("url").asText()).isEqualTo("/v3/api-docs");
  }

  @Test
  void a_client_generated_from_the_description_signs_up_logs_in_and_reads_its_player()
      throws ApiException {
    ApiClient anonymous = client();
    String nickname = "c" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    MemberControllerApi members = new MemberControllerApi(anonymous);
    SignedUp signedUp =
        members.signUp(
            new CredentialsRequest().nickname(nickname).password("correct horse"),
            // Sent again after a lost reply, the same key answers with the same account.
            "sign-up-" + nickname);
    LoggedIn loggedIn =
        members.logIn(new CredentialsRequest().nickname(nickname).password("correct horse"));

    ApiClient player =
        client()
            .setRequestInterceptor(r -> r.header("Authorization", "Bearer " + loggedIn.getToken()));
    assertThat(new MemberControllerApi(player).me().getNickname()).isEqualTo(nickname);
    PlayerControllerApi game = new PlayerControllerApi(player);
    PlayerView view =
        Awaitility.await()
            .atMost(Duration.ofSeconds(60))
            .ignoreException(ApiException.class)
            .until(() -> game.player(signedUp.getPlayerId()), v -> v != null);
    assertThat(view.getNickname()).isEqualTo(nickname);

    ApiException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            ApiException.class, () -> new MemberControllerApi(anonymous).me());
    assertThat(refused.getCode()).isEqualTo(401);
  }

  static ApiClient client() {
    ApiClient client = new ApiClient();
    client.updateBaseUri(GATEWAY.toString());
    // The generated client waits without limit by default: a stall fails the test, not hangs it.
    client.setConnectTimeout(java.time.Duration.ofSeconds(10));
    client.setReadTimeout(java.time.Duration.ofSeconds(30));
    return client;
  }

  /**
   * The service a request to this route goes to through the gateway (first route that takes it).
   */
  static java.util.Optional<String> forwardedTo(JsonNode definitions, String route) {
    String method = route.substring(0, route.indexOf(' '));
    String path = route.substring(route.indexOf(' ') + 1);
    for (JsonNode d : definitions) {
      boolean pathOk = false;
      boolean methodOk = true;
      for (JsonNode p : d.path("predicates")) {
        List<String> values = new ArrayList<>();
        p.path("args").forEach(v -> values.addAll(List.of(v.asText().split(","))));
        if ("Path".equals(p.path("name").asText())) {
          pathOk = values.stream().map(String::trim).anyMatch(pattern -> matches(pattern, path));
        } else if ("Method".equals(p.path("name").asText())) {
          methodOk = values.stream().map(String::trim).anyMatch(method::equalsIgnoreCase);
        }
      }
      if (pathOk && methodOk) {
        JsonNode service = d.path("metadata").path("api-docs");
        return service.isMissingNode()
            ? java.util.Optional.empty()
            : java.util.Optional.of(service.asText());
      }
    }
    return java.util.Optional.empty();
  }

  /** The gateway's patterns here: exact, or a prefix ending in "/**". */
  static boolean matches(String pattern, String path) {
    if (pattern.endsWith("/**")) {
      String prefix = pattern.substring(0, pattern.length() - 3);
      return path.equals(prefix) || path.startsWith(prefix + "/");
    }
    return pattern.equals(path);
  }

  /** "GET /api/…" for every controller method the service maps (its actuator's view). */
  static Set<String> controllerRoutes(URI management) {
    Response r = get(management, "/actuator/mappings", null);
    assertThat(r.status()).as("%s", r).isEqualTo(200);
    Set<String> routes = new TreeSet<>();
    for (JsonNode context : r.json().path("contexts")) {
      for (JsonNode handlers : context.path("mappings").path("dispatcherHandlers")) {
        for (JsonNode m : handlers) {
          JsonNode details = m.path("details");
          String type = details.path("handlerMethod").path("className").asText("");
          if (!type.startsWith("dev.citadel.")) {
            continue;
          }
          JsonNode conditions = details.path("requestMappingConditions");
          assertThat(conditions.path("methods").size())
              .as("%s maps every HTTP method: name the ones it serves", m.path("handler").asText())
              .isPositive();
          for (JsonNode method : conditions.path("methods")) {
            for (JsonNode pattern : conditions.path("patterns")) {
              routes.add(method.asText() + " " + pattern.asText());
            }
          }
        }
      }
    }
    assertThat(routes).as("routes at %s", management).isNotEmpty();
    return routes;
  }

  static JsonNode described(Service s) {
    Response r = get(s.base(), "/v3/api-docs", Platform.serviceToken("gateway", s.audience()));
    assertThat(r.status()).as("%s: %s", s.audience(), r).isEqualTo(200);
    Response anonymous = get(s.base(), "/v3/api-docs", null);
    assertThat(anonymous.status()).as("a service's own description needs a token").isEqualTo(401);
    return r.json();
  }

  /** "GET /path" for every operation a description has. */
  static Set<String> operations(JsonNode description) {
    Set<String> ops = new TreeSet<>();
    for (Map.Entry<String, JsonNode> path : description.path("paths").properties()) {
      path.getValue()
          .fieldNames()
          .forEachRemaining(
              m -> {
                if (Set.of("get", "put", "post", "delete", "patch", "head", "options", "trace")
                    .contains(m)) {
                  ops.add(m.toUpperCase(java.util.Locale.ROOT) + " " + path.getKey());
                }
              });
    }
    return ops;
  }
}
