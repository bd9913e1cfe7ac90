package dev.citadel.messaging.kafka;

/**
 * Where a service's Kafka is, as its configuration says ({@code citadel.kafka.*}).
 *
 * @param username SCRAM user where the cluster requires authentication (empty: none)
 */
public record KafkaConnection(
    String bootstrapServers, String username, String password, String securityProtocol) {
  public KafkaSettings settings(String clientId) {
    return KafkaSettings.defaults(bootstrapServers, clientId)
        .withCredentials(username, password, securityProtocol);
  }
}
