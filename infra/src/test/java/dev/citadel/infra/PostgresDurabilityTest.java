package dev.citadel.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.infra.postgres.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Durable means fsync and synchronous commit on; relaxed (tests' default) means off. */
class PostgresDurabilityTest {

  static String show(PostgresEndpoint db, String setting) throws Exception {
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
        ResultSet r = c.createStatement().executeQuery("SHOW " + setting)) {
      r.next();
      return r.getString(1);
    }
  }

  @Test
  void a_durable_server_syncs_every_commit_and_a_relaxed_one_does_not() throws Exception {
    InfraSettings durable = InfraSettings.from(Map.of(InfraSettings.POSTGRES_DURABLE, "true"));
    assertThat(durable.postgresDurable()).isTrue();
    try (PostgresServer server = PostgresServer.start(durable, 0)) {
      assertThat(show(server.endpoint(), "fsync")).isEqualTo("on");
      assertThat(show(server.endpoint(), "synchronous_commit")).isEqualTo("on");
      assertThat(show(server.endpoint(), "full_page_writes")).isEqualTo("on");
    }
    try (PostgresServer server = PostgresServer.start(InfraSettings.local(), 0)) {
      assertThat(show(server.endpoint(), "fsync")).isEqualTo("off");
      assertThat(show(server.endpoint(), "synchronous_commit")).isEqualTo("off");
    }
  }
}
