package dev.citadel.messaging;

/**
 * A message that can never be handled, however often it is tried: it cannot be parsed, or what it
 * says is invalid. The consumer dead-letters it at once. Every other failure is taken as transient
 * (a database that is down, a player held by a transaction) and retried until it succeeds.
 */
public class Unprocessable extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public Unprocessable(String message, Throwable cause) {
    super(message, cause);
  }

  public Unprocessable(String message) {
    super(message);
  }

  /**
   * Whether this failure, or one it was caused by, says the message can never be handled. A chain
   * of causes that loops (A caused by B caused by A: {@code initCause} allows it) ends the search
   * where it comes back, instead of looping on the consumer's thread for ever.
   */
  public static boolean in(Throwable error) {
    java.util.Set<Throwable> seen =
        java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    for (Throwable t = error; t != null && seen.add(t); t = t.getCause()) {
      if (t instanceof Unprocessable) {
        return true;
      }
    }
    return false;
  }
}
