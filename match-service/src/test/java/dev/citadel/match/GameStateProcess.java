package dev.citadel.match;

import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.kafka.KafkaEndpoint;
import dev.citadel.infra.platform.ServiceLaunch;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.infra.platform.ServiceSpec;
import dev.citadel.web.testing.TestIdentity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/** game-state-service as a real process (its -exec jar) on the shared test infrastructure. */
public final class GameStateProcess {
  private GameStateProcess() {}

  /** Starts it with its own database and waits until it is healthy. */
  public static ServiceProcess start(String name, String database) throws InterruptedException {
    return start(name, database, SharedInfra.kafka());
  }

  /** The same, on another Kafka cluster (a three-broker one, say). */
  public static ServiceProcess start(String name, String database, KafkaEndpoint kafka)
      throws InterruptedException {
    Path root = Path.of(System.getProperty("user.dir")).getParent();
    Map<String, String> env =
        new HashMap<>(
            Infrastructure.environment(SharedInfra.postgres(), SharedInfra.redis(), kafka));
    env.put(InfraSettings.POSTGRES_URL, SharedInfra.postgresDatabase(database).url());
    env.putAll(TestIdentity.shared().serviceEnv("game-state"));
    try {
      ServiceProcess process =
          ServiceProcess.start(
              new ServiceSpec(name, "game-state-service", FreePorts.next(), database),
              ServiceLaunch.jarOf(root, "game-state-service")
                  .orElseThrow(() -> new IllegalStateException("game-state-service is not built")),
              env,
              Files.createDirectories(Path.of("target", "service-logs")));
      return process.healthyOrStopped(Duration.ofSeconds(120));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
