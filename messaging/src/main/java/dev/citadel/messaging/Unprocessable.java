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

  /** Whether this failure, or one it was caused by, says the message can never be handled. */
  public static boolean in(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof Unprocessable) {
        return true;
      }
      if (t.getCause() == t) {
        return false;
      }
    }
    return false;
  }
}
