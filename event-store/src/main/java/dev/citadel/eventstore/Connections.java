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

  /**
   * How long a caller waits for a connection of a full pool, or for a new one to open: past it the
   * call fails with {@code R2dbcTimeoutException} (transient: answered 503, try again) instead of
   * waiting as long as the database stalls. Nothing was sent on a connection never acquired.
   */
  public static final Duration ACQUIRE_TIMEOUT = Duration.ofSeconds(5);

  /**
   * The longest one statement may run, and wait for a lock, before PostgreSQL cancels it (rolled
   * back; the caller gets a resource error, answered 503, and an append looks up whether it landed
   * like any other ambiguous failure). A player's commands wait in line behind the one in the
   * database: without a bound, one stalled statement (a lock held by a stuck session, a sick disk)
   * stalls that player for as long as it lasts. Far above any statement's normal time (a replay of
   * 100,000 events takes about 0.25 s); work that can grow (retention) goes in bounded batches.
   */
  public static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(30),
      LOCK_TIMEOUT = Duration.ofSeconds(10);

  public static ConnectionPool pool(
      String host, int port, String database, String user, String password, int size) {
    return pool(
        host,
        port,
        database,
        user,
        password,
        size,
        ACQUIRE_TIMEOUT,
        STATEMENT_TIMEOUT,
        LOCK_TIMEOUT);
  }

  static ConnectionPool pool(
      String host,
      int port,
      String database,
      String user,
      String password,
      int size,
      Duration acquireTimeout,
      Duration statementTimeout,
      Duration lockTimeout) {
    PostgresqlConnectionFactory factory =
        new PostgresqlConnectionFactory(
            PostgresqlConnectionConfiguration.builder()
                .host(host)
                .port(port)
                .database(database)
                .username(user)
                .password(password)
                .preparedStatementCacheQueries(256)
                // Rows in binary: a timestamp or bytea column read as text is parsed (ISO date,
                // hex) for every event read, a large share of a replay's CPU.
                .forceBinary(true)
                .connectTimeout(acquireTimeout)
                // A session whose client is gone stops: a statement checks every second whether its
                // client is still there (PostgreSQL 14 or newer), so one whose reply was lost does
                // not run on for as long as it waits for a lock; keepalives find a silent peer; a
                // transaction left open (its client gone between statements) ends after a minute
                // instead of holding its row locks.
                .tcpKeepAlive(true)
                .options(
                    java.util.Map.of(
                        "client_connection_check_interval",
                        "1000",
                        "idle_in_transaction_session_timeout",
                        "60000",
                        "statement_timeout",
                        String.valueOf(statementTimeout.toMillis()),
                        "lock_timeout",
                        String.valueOf(lockTimeout.toMillis())))
                .build());
    return new ConnectionPool(
        ConnectionPoolConfiguration.builder(factory)
            .initialSize(Math.min(2, size))
            .maxSize(size)
            .maxIdleTime(Duration.ofMinutes(5))
            .maxAcquireTime(acquireTimeout)
            .acquireRetry(0) // the pool's default tries once more: twice the bound
            .maxCreateConnectionTime(acquireTimeout)
            .build());
  }
}
