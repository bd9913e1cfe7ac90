package dev.citadel.match;

import dev.citadel.infra.FreePorts;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.junit.SharedInfra;
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

/**
 * match-service as a real process on the shared test infrastructure, run from this module's class
 * path (its jar is not built yet when the module's tests run).
 */
public final class MatchServiceProcess {
  private MatchServiceProcess() {}

  /**
   * Starts it with the shared infrastructure, the test identity's service settings and {@code
   * settings} on top (environment variables, e.g. {@code CITADEL_MATCH_QUEUES}), and waits until it
   * is healthy.
   */
  public static ServiceProcess start(String name, Map<String, String> settings)
      throws InterruptedException {
    Map<String, String> env =
        new HashMap<>(
            Infrastructure.environment(
                SharedInfra.postgres(), SharedInfra.redis(), SharedInfra.kafka()));
    env.putAll(TestIdentity.shared().serviceEnv("match-service"));
    env.putAll(settings);
    try {
      ServiceProcess process =
          ServiceProcess.startMain(
              new ServiceSpec(name, "match-service", FreePorts.next(), null),
              System.getProperty("java.class.path"),
              MatchApplication.class.getName(),
              env,
              Files.createDirectories(Path.of("target", "service-logs")));
      return process.healthyOrStopped(Duration.ofSeconds(120));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
