package dev.citadel.gateway;

import com.nimbusds.jose.jwk.RSAKey;
import dev.citadel.affinity.GameStateInstances;
import dev.citadel.gateway.config.GatewayConfiguration;
import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceLaunch;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.infra.platform.ServiceSpec;
import dev.citadel.web.testing.TestIdentity;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Real member-service and game-state-service processes (from their -exec jars, as the local
 * platform runs them) on the shared test infrastructure, and gateways in this JVM.
 */
final class Cluster implements AutoCloseable {
  static final Duration STARTUP = Duration.ofSeconds(180);

  final RSAKey signingKey = TestIdentity.generateKey();
  final Path root = Path.of(System.getProperty("user.dir")).getParent();
  final Path logs = Path.of("target", "service-logs");
  final Map<String, ServiceProcess> services = new LinkedHashMap<>();
  final Map<String, URI> gameStates = new LinkedHashMap<>();
  final List<ConfigurableApplicationContext> gateways = new ArrayList<>();
  URI member;

  Cluster() throws Exception {
    Files.createDirectories(logs);
  }

  private Map<String, String> baseEnv() {
    Map<String, String> env =
        new HashMap<>(
            Infrastructure.environment(
                SharedInfra.postgres(), SharedInfra.redis(), SharedInfra.kafka()));
    return env;
  }

  private ServiceProcess launch(
      String name, String module, String database, Map<String, String> extra) {
    int port = FreePorts.next();
    Map<String, String> env = baseEnv();
    env.put(InfraSettings.POSTGRES_URL, SharedInfra.postgresDatabase(database).url());
    env.putAll(extra);
    Path jar =
        ServiceLaunch.jarOf(root, module)
            .orElseThrow(() -> new IllegalStateException(module + " is not built (mvn package)"));
    ServiceProcess p =
        ServiceProcess.start(new ServiceSpec(name, module, port, database), jar, env, logs);
    services.put(name, p);
    return p;
  }

  /** Any game-state instance, as a game server reaches one: internal routes with its token. */
  URI anyGameState() {
    return gameStates.values().iterator().next();
  }

  /** Starts member-service and the given game-state instances, and waits until all are healthy. */
  Cluster start(int gameStateInstances) throws InterruptedException {
    ServiceProcess m =
        launch(
            "member",
            "member-service",
            "member_gw",
            TestIdentity.memberEnv(TestIdentity.pem(signingKey)));
    member = URI.create("http://127.0.0.1:" + m.spec().port());
    List<ServiceProcess> started = new ArrayList<>(List.of(m));
    for (int i = 1; i <= gameStateInstances; i++) {
      started.add(launchGameState("gs-" + i));
    }
    for (ServiceProcess p : started) {
      p.awaitHealthy(STARTUP);
    }
    return this;
  }

  ServiceProcess launchGameState(String name) {
    ServiceProcess p =
        launch(
            name,
            "game-state-service",
            "game_state_gw",
            Map.of(
                "CITADEL_MEMBER_URL",
                member.toString(),
                "CITADEL_SERVICE_CLIENT_ID",
                "game-state",
                "CITADEL_SERVICE_CLIENT_SECRET",
                TestIdentity.CLIENT_SECRETS.get("game-state")));
    gameStates.put(name, URI.create("http://127.0.0.1:" + p.spec().port()));
    return p;
  }

  /**
   * A game-state instance listening on {@code address} (a loopback address such as 127.0.0.2) and
   * {@code port}, as a pod listens on its own IP: several instances share the port, as pods do.
   */
  ServiceProcess launchGameStateAt(String name, String address, int port, List<URI> peers) {
    URI self = URI.create("http://" + address + ":" + port);
    Map<String, String> env = baseEnv();
    env.put(InfraSettings.POSTGRES_URL, SharedInfra.postgresDatabase("game_state_dns").url());
    env.put("SERVER_ADDRESS", address);
    env.put("MANAGEMENT_SERVER_ADDRESS", "127.0.0.1");
    env.put("CITADEL_SELF_URL", self.toString());
    env.put(
        "CITADEL_GAME_STATE_URLS", String.join(",", peers.stream().map(URI::toString).toList()));
    env.put("CITADEL_MEMBER_URL", member.toString());
    env.put("CITADEL_SERVICE_CLIENT_ID", "game-state");
    env.put("CITADEL_SERVICE_CLIENT_SECRET", TestIdentity.CLIENT_SECRETS.get("game-state"));
    Path jar =
        ServiceLaunch.jarOf(root, "game-state-service")
            .orElseThrow(() -> new IllegalStateException("game-state-service is not built"));
    ServiceProcess p =
        ServiceProcess.start(
            new ServiceSpec(name, "game-state-service", port, "game_state_dns"), jar, env, logs);
    services.put(name, p);
    gameStates.put(name, self);
    return p;
  }

  /**
   * A gateway in a JVM of its own, in the {@code kubernetes} profile (DNS discovery of {@code
   * dnsName}), whose name lookups read {@code hostsFile} (the JDK's {@code jdk.net.hosts.file}),
   * cached 5 s as in production: rewriting the file is a headless Service's records changing.
   */
  ServiceProcess gatewayProcess(String dnsName, int dnsPort, Path hostsFile) {
    Map<String, String> env = baseEnv();
    env.put("SPRING_PROFILES_ACTIVE", "kubernetes");
    env.put("CITADEL_GAME_STATE_DNS", dnsName);
    env.put("CITADEL_GATEWAY_GAMESTATE_DNSPORT", Integer.toString(dnsPort));
    env.put("CITADEL_GATEWAY_GAMESTATE_HEALTHINTERVAL", "200ms");
    env.put("CITADEL_MEMBER_URL", member.toString());
    env.put("CITADEL_SERVICE_CLIENT_SECRET", TestIdentity.CLIENT_SECRETS.get("gateway"));
    env.put("CITADEL_MATCH_URL", "http://127.0.0.1:" + FreePorts.next());
    env.put("CITADEL_RATE_LIMIT_PER_SECOND", "10000");
    env.put("CITADEL_RATE_LIMIT_BURST", "20000");
    env.put("JAVA_TOOL_OPTIONS", "-Djdk.net.hosts.file=" + hostsFile.toAbsolutePath());
    ServiceProcess p =
        ServiceProcess.startMain(
            new ServiceSpec("gateway-dns", "gateway", FreePorts.next(), null),
            System.getProperty("java.class.path"),
            GatewayApplication.class.getName(),
            env,
            logs);
    services.put("gateway-dns", p);
    return p;
  }

  /** A game server's token from this cluster's member-service, as a game server gets it. */
  String gameServerToken() {
    Map<?, ?> token =
        org.springframework.test.web.reactive.server.WebTestClient.bindToServer()
            .baseUrl(member.toString())
            .responseTimeout(Duration.ofSeconds(30))
            .build()
            .post()
            .uri("/oauth2/token")
            .headers(
                h -> h.setBasicAuth("game-server", TestIdentity.CLIENT_SECRETS.get("game-server")))
            .contentType(org.springframework.http.MediaType.APPLICATION_FORM_URLENCODED)
            .bodyValue("grant_type=client_credentials&audience=game-state")
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    return token.get("access_token").toString();
  }

  void stop(String name) {
    services.remove(name).stop(Duration.ofSeconds(20));
    gameStates.remove(name);
  }

  /** A gateway in this JVM, routing to the current game-state instances. */
  ConfigurableApplicationContext gateway(int perSecond, int burst) {
    return gateway(perSecond, burst, Map.of());
  }

  /** The same, with settings of the test's own (they win over the defaults here). */
  ConfigurableApplicationContext gateway(int perSecond, int burst, Map<String, Object> settings) {
    Map<String, Object> props = new HashMap<>();
    props.put("server.port", 0);
    props.put("management.server.port", 0);
    props.put("CITADEL_MEMBER_URL", member.toString());
    props.put("citadel.security.client.secret", TestIdentity.CLIENT_SECRETS.get("gateway"));
    props.put("CITADEL_MATCH_URL", "http://127.0.0.1:" + FreePorts.next());
    props.put("spring.data.redis.url", SharedInfra.redis().url());
    props.put("citadel.gateway.rate-limit.per-second", perSecond);
    props.put("citadel.gateway.rate-limit.burst", burst);
    props.put("citadel.gateway.game-state.health-interval", "200ms");
    props.put(
        "citadel.gateway.game-state.instances",
        String.join(",", gameStates.values().stream().map(URI::toString).toList()));
    props.putAll(settings);
    // As command-line arguments: they win over application.yml, as an operator's would.
    String[] args =
        props.entrySet().stream()
            .map(e -> "--" + e.getKey() + "=" + e.getValue())
            .toArray(String[]::new);
    ConfigurableApplicationContext context =
        new SpringApplicationBuilder(GatewayApplication.class).run(args);
    gateways.add(context);
    return context;
  }

  static int port(ConfigurableApplicationContext gateway) {
    return Integer.parseInt(gateway.getEnvironment().getProperty("local.server.port"));
  }

  static List<URI> healthy(ConfigurableApplicationContext gateway) {
    return gateway.getBean(GameStateInstances.class).healthy();
  }

  /** Tells every gateway the current instance list, as discovery would. */
  void announceInstances() {
    for (ConfigurableApplicationContext g : gateways) {
      g.getBean(GatewayConfiguration.StaticInstances.class)
          .replace(List.copyOf(gameStates.values()));
    }
  }

  @Override
  public void close() {
    gateways.forEach(ConfigurableApplicationContext::close);
    services.values().forEach(p -> p.stop(Duration.ofSeconds(20)));
  }
}
