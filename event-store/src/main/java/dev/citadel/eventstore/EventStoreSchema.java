package dev.citadel.eventstore;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.Flyway;

/** Applies the event store's versioned migrations ({@code db/eventstore/V*.sql}). */
public final class EventStoreSchema {
  /** Any fixed number: the advisory lock every migrating instance takes first. */
  private static final long MIGRATION_LOCK = 0x43_49_54_41_44_45_4CL; // "CITADEL"

  private EventStoreSchema() {}

  /**
   * Migrates under a PostgreSQL advisory lock: replicas starting together on a new database would
   * otherwise race to create the history table (one fails "already exists, and is empty").
   */
  public static void migrate(String jdbcUrl, String user, String password) {
    try (Connection lock = DriverManager.getConnection(jdbcUrl, user, password);
        Statement s = lock.createStatement()) {
      s.execute("SELECT pg_advisory_lock(" + MIGRATION_LOCK + ")");
      try {
        Flyway.configure()
            .dataSource(jdbcUrl, user, password)
            .locations("classpath:db/eventstore")
            .table("eventstore_schema_history")
            .baselineOnMigrate(true)
            .baselineVersion("0") // another module may own tables in this schema: still apply V1
            .load()
            .migrate();
      } finally {
        s.execute("SELECT pg_advisory_unlock(" + MIGRATION_LOCK + ")");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not migrate the event store at " + jdbcUrl, e);
    }
  }
}
