package dev.citadel.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.DriverManager;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * The Docker path ({@code CITADEL_INFRA=docker}): the same infrastructure from Testcontainers.
 * Skipped on machines without a Docker engine.
 */
@Testcontainers(disabledWithoutDocker = true)
class DockerInfrastructureTest {

  @Test
  void starts_postgres_redis_and_kafka_in_containers() throws Exception {
    InfraSettings docker = InfraSettings.from(Map.of("CITADEL_INFRA", "docker"));
    try (Infrastructure infra = Infrastructure.start(docker, Infrastructure.Ports.FREE, 1)) {
      try (var c =
          DriverManager.getConnection(
              infra.postgres().jdbcUrl(),
              infra.postgres().username(),
              infra.postgres().password())) {
        assertThat(c.isValid(5)).isTrue();
      }
      assertThat(FreePortsProbe.accepts(infra.redis().host(), infra.redis().port())).isTrue();
      Properties props = new Properties();
      props.put("bootstrap.servers", infra.kafka().bootstrapServers());
      try (Admin admin = Admin.create(props)) {
        assertThat(admin.describeCluster().nodes().get()).isNotEmpty();
      }
    }
  }

  static final class FreePortsProbe {
    static boolean accepts(String host, int port) {
      try (var socket = new java.net.Socket(host, port)) {
        return socket.isConnected();
      } catch (java.io.IOException e) {
        return false;
      }
    }
  }
}
