package dev.citadel.match.config;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

@ConfigurationProperties("citadel")
public record MatchProperties(String instanceId, Kafka kafka, Match match) {
  /**
   * @param username SCRAM user where the cluster requires authentication (empty: none)
   */
  public record Kafka(
      String bootstrapServers, String username, String password, String securityProtocol) {
    public dev.citadel.messaging.kafka.KafkaSettings settings(String clientId) {
      return dev.citadel.messaging.kafka.KafkaSettings.defaults(bootstrapServers, clientId)
          .withCredentials(username, password, securityProtocol);
    }
  }

  public record Match(
      String memberUrl,
      List<String> queues,
      int playersPerMatch,
      int defaultElo,
      Window window,
      Duration tickInterval,
      Duration roomTimeout,
      Duration lockTtl,
      Topics topics) {}

  public record Window(int start, int perSecond, int cap, java.time.Duration maxWait) {}

  public record Topics(
      String found, String assigned, String rejected, String ended, String presence) {}
}
