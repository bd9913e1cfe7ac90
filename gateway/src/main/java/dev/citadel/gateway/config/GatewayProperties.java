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
   * @param discovery {@code static}: the {@code instances} list; {@code dns}: every address of
   *     {@code dnsName} (a headless Service in Kubernetes) on {@code dnsPort}; {@code
   *     discovery-client}: a Spring Cloud discovery client for {@code serviceId}
   * @param healthInterval how often each instance's readiness is probed
   */
  public record GameState(
      String discovery,
      List<URI> instances,
      String dnsName,
      int dnsPort,
      String serviceId,
      Duration healthInterval,
      Duration healthTimeout) {}
}
