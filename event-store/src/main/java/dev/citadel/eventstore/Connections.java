package dev.citadel.eventstore;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import java.time.Duration;

/** A pooled R2DBC connection factory for PostgreSQL. */
public final class Connections {
  private Connections() {}

  public static ConnectionPool pool(
      String host, int port, String database, String user, String password, int size) {
    PostgresqlConnectionFactory factory =
        new PostgresqlConnectionFactory(
            PostgresqlConnectionConfiguration.builder()
                .host(host)
                .port(port)
                .database(database)
                .username(user)
                .password(password)
                .preparedStatementCacheQueries(256)
                .build());
    return new ConnectionPool(
        ConnectionPoolConfiguration.builder(factory)
            .initialSize(Math.min(2, size))
            .maxSize(size)
            .maxIdleTime(Duration.ofMinutes(5))
            .build());
  }
}
