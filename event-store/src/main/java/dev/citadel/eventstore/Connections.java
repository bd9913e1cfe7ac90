package dev.citadel.eventstore;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionConfiguration;
import io.r2dbc.postgresql.PostgresqlConnectionFactory;
import java.net.URI;
import java.time.Duration;

/** A pooled R2DBC connection factory for PostgreSQL. */
public final class Connections {
  private Connections() {}

  /**
   * A pool for {@code postgresql://host:port/database} (the form of CITADEL_POSTGRES_URL), after
   * applying the event store's migrations.
   */
  public static ConnectionPool migratedPool(String url, String user, String password, int size) {
    URI uri = URI.create(url.replaceFirst("^(jdbc:|r2dbc:)", ""));
    EventStoreSchema.migrate("jdbc:" + uri, user, password);
    return pool(
        uri.getHost(),
        uri.getPort() == -1 ? 5432 : uri.getPort(),
        uri.getPath().replaceFirst("^/", ""),
        user,
        password,
        size);
  }

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
