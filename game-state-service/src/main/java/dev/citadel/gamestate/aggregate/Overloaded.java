package dev.citadel.gamestate.aggregate;

/**
 * Refused before any work began, because a bound on waiting work was reached (one player's mailbox,
 * or the loads waiting for a slot): nothing was done, and the same request a moment later may pass
 * (503 with {@code Retry-After}). {@link #reason} names the bound, for the shed-requests metric.
 */
public final class Overloaded extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String reason;

  public Overloaded(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
