package dev.citadel.infra.platform;

import java.util.Map;

/**
 * One service process of the local platform.
 *
 * @param name unique name of this instance, e.g. {@code game-state-a}
 * @param module the Maven module whose jar is run
 * @param port the fixed HTTP port
 * @param env extra environment variables for this instance
 */
public record ServiceSpec(String name, String module, int port, Map<String, String> env) {
  public ServiceSpec(String name, String module, int port) {
    this(name, module, port, Map.of());
  }
}
