package dev.citadel.gamestate.aggregate;

/**
 * An idempotency key came again with a different request: the caller's mistake, refused (409),
 * never silently answered with the first request's outcome.
 */
public final class KeyReused extends RuntimeException implements Rejection {
  private static final long serialVersionUID = 1L;

  public KeyReused(String id, String key) {
    super("the key '" + key + "' was used for a different request on " + id, null, false, false);
  }
}
