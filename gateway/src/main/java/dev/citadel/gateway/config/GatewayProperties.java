package dev.citadel.gateway.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * @param jwksUri member-service's public keys
 * @param issuer the {@code iss} tokens must carry
 * @param gameState where the game-state instances come from
 */
@ConfigurationProperties("citadel.gateway")
public record GatewayProperties(URI jwksUri, String issuer, GameState gameState) {

  /**
   * @param discovery {@code static}: the {@code instances} list; {@code discovery-client}: the
   *     Spring Cloud discovery client (Kubernetes endpoints in the cluster) for {@code serviceId}
   * @param healthInterval how often each instance's readiness is probed
   */
  public record GameState(
      String discovery,
      List<URI> instances,
      String serviceId,
      Duration healthInterval,
      Duration healthTimeout) {}
}
