package dev.citadel.eventstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Reading many streams after their own versions (a transaction's commits read their players
 * together) stays a look-up per stream by the journal's key: as a plain join, a few hundred streams
 * made PostgreSQL hash the whole events table instead.
 */
@CitadelInfra
class ReadStreamsPlanTest {
  static final int STREAMS = 2_000;
  static final int ASKED = 500;

  @Test
  void reading_hundreds_of_streams_never_scans_the_whole_journal() throws Exception {
    PostgresEndpoint db = SharedInfra.postgresDatabase("read_streams_plan");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    java.util.Properties properties = new java.util.Properties();
    properties.setProperty("user", db.username());
    properties.setProperty("password", db.password());
    properties.setProperty("preferQueryMode", "simple");
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), properties)) {
      String prefix = "plan-" + java.util.UUID.randomUUID() + "-";
      try (Statement s = c.createStatement()) {
        s.execute(
            "INSERT INTO events (aggregate_id, seq, aggregate_type, event_type, payload,"
                + " recorded_at) SELECT '"
                + prefix
                + "' || i, n, 'counter', 'test.Added', '\\x00', now()"
                + " FROM generate_series(1, "
                + STREAMS
                + ") i, generate_series(1, 10) n");
        s.execute("ANALYZE events");
        s.execute(
            "PREPARE read_streams(text[], bigint[]) AS " + PostgresEventStore.READ_STREAMS_SQL);
      }
      // The plan for these values, as for the driver's first runs on a connection; then the
      // generic one PostgreSQL may keep after five.
      assertNoFullScan(c, prefix);
      try (Statement s = c.createStatement()) {
        s.execute("SET plan_cache_mode = force_generic_plan");
      }
      assertNoFullScan(c, prefix);
    }
  }

  private static void assertNoFullScan(Connection c, String prefix) throws Exception {
    {
      try (PreparedStatement explain =
          c.prepareStatement("EXPLAIN (ANALYZE) EXECUTE read_streams(?, ?)")) {
        explain.setArray(
            1,
            c.createArrayOf(
                "text", IntStream.range(0, ASKED).mapToObj(i -> prefix + (i * 3 + 1)).toArray()));
        explain.setArray(
            2, c.createArrayOf("bigint", IntStream.range(0, ASKED).mapToObj(i -> 8L).toArray()));
        StringBuilder plan = new StringBuilder();
        try (ResultSet rs = explain.executeQuery()) {
          while (rs.next()) {
            plan.append(rs.getString(1)).append('\n');
          }
        }
        assertThat(plan.toString())
            .as("the plan%n%s", plan)
            .doesNotContain("Seq Scan on events")
            .contains("rows=" + ASKED * 2 + " ");
      }
    }
  }
}
