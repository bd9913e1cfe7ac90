package dev.citadel.infra.platform;

import dev.citadel.infra.FreePorts;
import java.util.Map;

/**
 * One service process of the local platform.
 *
 * @param name unique name of this instance, e.g. {@code game-state-a}
 * @param module the Maven module whose jar is run
 * @param port the HTTP port callers use
 * @param managementPort the port of health and metrics (never routed, never exposed)
 * @param database the service's own PostgreSQL database (created if missing), or null for none
 * @param env extra environment variables for this instance
 */
public record ServiceSpec(
    String name,
    String module,
    int port,
    int managementPort,
    String database,
    Map<String, String> env) {
  public ServiceSpec {
    env = Map.copyOf(env);
  }

  /** With a free management port. */
  public ServiceSpec(
      String name, String module, int port, String database, Map<String, String> env) {
    this(name, module, port, FreePorts.next(), database, env);
  }

  /** With a free management port and no extra environment. */
  public ServiceSpec(String name, String module, int port, String database) {
    this(name, module, port, database, Map.of());
  }

  public ServiceSpec withEnv(Map<String, String> more) {
    Map<String, String> all = new java.util.HashMap<>(env);
    all.putAll(more);
    return new ServiceSpec(name, module, port, managementPort, database, all);
  }
}
