package dev.citadel.infra.postgres;

import java.net.URI;

/** How clients reach a PostgreSQL database. */
public record PostgresEndpoint(
    String host, int port, String database, String username, String password) {

  /** {@code postgresql://host:port/db}, the form of {@code CITADEL_POSTGRES_URL}. */
  public String url() {
    return "postgresql://" + host + ":" + port + "/" + database;
  }

  public String jdbcUrl() {
    return "jdbc:" + url();
  }

  public String r2dbcUrl() {
    return "r2dbc:" + url();
  }

  public PostgresEndpoint withDatabase(String otherDatabase) {
    return new PostgresEndpoint(host, port, otherDatabase, username, password);
  }

  /**
   * Parses {@code postgresql://host:port/db}, also with a {@code jdbc:} or {@code r2dbc:} prefix.
   */
  public static PostgresEndpoint parse(String url, String username, String password) {
    String plain = url.replaceFirst("^(jdbc:|r2dbc:)", "");
    URI uri = URI.create(plain);
    if (!"postgresql".equals(uri.getScheme()) || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "expected postgresql://host:port/database, got '" + url + "'");
    }
    String path = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    return new PostgresEndpoint(
        uri.getHost(),
        uri.getPort() == -1 ? 5432 : uri.getPort(),
        path.isEmpty() ? "postgres" : path,
        username,
        password);
  }
}
