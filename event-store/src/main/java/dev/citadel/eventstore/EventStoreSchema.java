package dev.citadel.eventstore;

import org.flywaydb.core.Flyway;

/** Applies the event store's versioned migrations ({@code db/eventstore/V*.sql}). */
public final class EventStoreSchema {
  private EventStoreSchema() {}

  public static void migrate(String jdbcUrl, String user, String password) {
    Flyway.configure()
        .dataSource(jdbcUrl, user, password)
        .locations("classpath:db/eventstore")
        .table("eventstore_schema_history")
        .baselineOnMigrate(true)
        .baselineVersion("0") // another module may own tables in this schema: still apply V1
        .load()
        .migrate();
  }
}
