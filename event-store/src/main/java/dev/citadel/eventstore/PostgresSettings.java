package dev.citadel.eventstore;

/**
 * Where a service's PostgreSQL is, as its configuration says ({@code citadel.postgres.*}).
 *
 * @param url {@code postgresql://host:port/database} (CITADEL_POSTGRES_URL)
 */
public record PostgresSettings(String url, String user, String password, int poolSize) {
  public String jdbcUrl() {
    return "jdbc:" + url;
  }
}
