package dev.citadel.infra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.infra.redis.RedisEndpoint;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InfraSettingsTest {

  @Test
  void nothing_set_means_everything_local() {
    InfraSettings s = InfraSettings.from(Map.of());
    assertThat(s.source()).isEqualTo(InfraSettings.Source.LOCAL);
    assertThat(s.postgresUrl()).isEmpty();
    assertThat(s.redisUrl()).isEmpty();
    assertThat(s.kafkaBootstrapServers()).isEmpty();
  }

  @Test
  void external_endpoints_and_docker_are_read_from_the_environment() {
    InfraSettings s =
        InfraSettings.from(
            Map.of(
                "CITADEL_POSTGRES_URL", "jdbc:postgresql://db:6543/citadel",
                "CITADEL_POSTGRES_USER", "app",
                "CITADEL_REDIS_URL", "redis://cache:7000",
                "CITADEL_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092",
                "CITADEL_INFRA", "docker"));
    assertThat(s.source()).isEqualTo(InfraSettings.Source.DOCKER);
    PostgresEndpoint pg =
        PostgresEndpoint.parse(s.postgresUrl().get(), s.postgresUser(), s.postgresPassword());
    assertThat(pg).isEqualTo(new PostgresEndpoint("db", 6543, "citadel", "app", "postgres"));
    assertThat(pg.r2dbcUrl()).isEqualTo("r2dbc:postgresql://db:6543/citadel");
    assertThat(RedisEndpoint.parse(s.redisUrl().get())).isEqualTo(new RedisEndpoint("cache", 7000));
    assertThat(s.kafkaBootstrapServers()).contains("k1:9092,k2:9092");
  }

  @Test
  void bad_values_are_refused_with_a_clear_message() {
    assertThatThrownBy(() -> InfraSettings.from(Map.of("CITADEL_INFRA", "k8s")))
        .hasMessageContaining("CITADEL_INFRA must be 'local' or 'docker'");
    assertThatThrownBy(() -> PostgresEndpoint.parse("mysql://x/y", "u", "p"))
        .hasMessageContaining("expected postgresql://host:port/database");
    assertThatThrownBy(() -> RedisEndpoint.parse("http://x"))
        .hasMessageContaining("expected redis://host:port");
    assertThatThrownBy(() -> InfraSettings.from(Map.of("CITADEL_POSTGRES_DURABLE", "yes")))
        .hasMessageContaining("CITADEL_POSTGRES_DURABLE must be 'true' or 'false'");
  }
}
