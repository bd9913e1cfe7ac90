package dev.citadel.gateway.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * @param gameState where the game-state instances come from
 */
@ConfigurationProperties("citadel.gateway")
public record GatewayProperties(GameState gameState) {

  /**
   * Where the candidate game-state instances come from. An enum, so that a value no code handles
   * fails at start instead of silently meaning the static list (which once sent every request in
   * the cluster to 127.0.0.1).
   */
  public enum Discovery {
    STATIC,
    DNS,
    DISCOVERY_CLIENT
  }

  /**
   * @param discovery {@code static}: the {@code instances} list; {@code dns}: every address of
   *     {@code dnsName} (a headless Service in Kubernetes) on {@code dnsPort}; {@code
   *     discovery-client}: a Spring Cloud discovery client for {@code serviceId}
   * @param healthInterval how often each instance's readiness is probed
   */
  public record GameState(
      Discovery discovery,
      List<URI> instances,
      String dnsName,
      int dnsPort,
      String serviceId,
      Duration healthInterval,
      Duration healthTimeout) {}
}
