package dev.citadel.infra.platform;

import java.util.Map;

/**
 * One service process of the local platform.
 *
 * @param name unique name of this instance, e.g. {@code game-state-a}
 * @param module the Maven module whose jar is run
 * @param port the fixed HTTP port
 * @param database the service's own PostgreSQL database (created if missing), or null for none
 * @param env extra environment variables for this instance
 */
public record ServiceSpec(
    String name, String module, int port, String database, Map<String, String> env) {
  public ServiceSpec(String name, String module, int port, String database) {
    this(name, module, port, database, Map.of());
  }
}
