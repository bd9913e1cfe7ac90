package dev.citadel.gateway.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * @param gameState where the game-state instances come from
 * @param rateLimit how the per-player token bucket is asked
 * @param directGamePath whether a verified player's game request may go past the generic security
 *     chain ({@code GamePath}; false: every request goes the generic way)
 */
@ConfigurationProperties("citadel.gateway")
public record GatewayProperties(
    GameState gameState, RateLimit rateLimit, @DefaultValue("true") boolean directGamePath) {

  /**
   * The per-player limit (rate and burst reach Spring Cloud Gateway's filter as its arguments) and
   * how this replica leases a busy player's tokens ({@code LeasedRateLimiter}).
   *
   * @param maxLease the most tokens taken from a player's bucket at once (1: one call a request)
   * @param leaseTime how long taken tokens may be spent here (the rest goes back to the bucket)
   */
  public record RateLimit(int perSecond, int burst, int maxLease, Duration leaseTime) {
    public RateLimit {
      if (maxLease < 1) {
        throw new IllegalArgumentException(
            "citadel.gateway.rate-limit.max-lease must be at least 1, was " + maxLease);
      }
      if (leaseTime == null || leaseTime.isNegative() || leaseTime.isZero()) {
        throw new IllegalArgumentException(
            "citadel.gateway.rate-limit.lease-time must be positive, was " + leaseTime);
      }
    }
  }

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
