package dev.citadel.member.config;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/** Settings of member-service; see application.yml for the defaults. */
@ConfigurationProperties("citadel")
public record MemberProperties(
    String instanceId, Postgres postgres, Kafka kafka, Jwt jwt, Members members) {

  /** {@code url} is {@code postgresql://host:port/database} (CITADEL_POSTGRES_URL). */
  public record Postgres(String url, String user, String password, int poolSize) {
    public String jdbcUrl() {
      return "jdbc:" + url;
    }
  }

  public record Kafka(String bootstrapServers) {}

  public record Jwt(String issuer, Duration ttl, String privateKey, String keyId) {}

  public record Members(String outboxTopic, String presenceTopic, int bcryptStrength) {}
}
