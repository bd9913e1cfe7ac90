package dev.citadel.infra;

/**
 * A started (or external) piece of infrastructure. Closing stops what this process started and
 * leaves external services alone.
 *
 * @param <E> how clients reach it
 */
public interface Running<E> extends AutoCloseable {
  E endpoint();

  /** Human-readable origin, e.g. "local binary", "docker", "external". */
  String origin();

  @Override
  void close();
}
