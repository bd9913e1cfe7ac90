package dev.citadel.gamestate.transactions;

import dev.citadel.affinity.Rendezvous;
import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.infra.platform.ServiceSpec;
import dev.citadel.infra.postgres.PostgresEndpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.springframework.web.reactive.function.client.WebClient;

/** Two game-state processes (the packaged -exec jar) on one database, each knowing the other. */
final class TwoInstances implements AutoCloseable {
  final List<ServiceProcess> processes = new ArrayList<>();
  final List<String> urls = new ArrayList<>();
  final PostgresEndpoint db;

  TwoInstances(String database, Map<String, String> extraEnv) throws Exception {
    db = SharedInfra.postgresDatabase(database);
    int[] ports = {FreePorts.next(), FreePorts.next()};
    for (int port : ports) {
      urls.add("http://127.0.0.1:" + port);
    }
    Path root = Path.of(System.getProperty("user.dir")).getParent();
    Path jar =
        ServiceProcess.jarOf(root, "game-state-service")
            .orElseThrow(() -> new IllegalStateException("game-state-service is not packaged"));
    for (int i = 0; i < 2; i++) {
      Map<String, String> env =
          new HashMap<>(
              Infrastructure.environment(
                  SharedInfra.postgres(), SharedInfra.redis(), SharedInfra.kafka()));
      env.put(InfraSettings.POSTGRES_URL, db.url());
      env.put("CITADEL_GAME_STATE_URLS", String.join(",", urls));
      env.put("CITADEL_SELF_URL", urls.get(i));
      env.putAll(extraEnv);
      processes.add(
          ServiceProcess.start(
              new ServiceSpec(database + "-" + i, "game-state-service", ports[i], database),
              jar,
              env,
              Files.createDirectories(Path.of("target", "service-logs"))));
    }
    for (ServiceProcess p : processes) {
      p.awaitHealthy(Duration.ofSeconds(120));
    }
  }

  String owner(String player) {
    return Rendezvous.pick(player, urls, Function.identity()).orElseThrow();
  }

  private static final Map<String, WebClient> CLIENTS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** One client per instance, so connections are pooled and reused. */
  static WebClient client(String url) {
    return CLIENTS.computeIfAbsent(url, u -> WebClient.builder().baseUrl(u).build());
  }

  @Override
  public void close() {
    processes.forEach(p -> p.stop(Duration.ofSeconds(20)));
  }
}
