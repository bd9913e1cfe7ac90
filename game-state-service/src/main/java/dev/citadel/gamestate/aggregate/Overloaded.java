package dev.citadel.gamestate.aggregate;

/**
 * Refused without having done anything, because a bound was reached (one player's mailbox, the
 * loads waiting for a slot, the retries of a match end whose channel stayed contended): the same
 * request a moment later may pass (503 with {@code Retry-After}). {@link #reason} names the bound.
 */
public final class Overloaded extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** The {@link #reason} of one player's full mailbox (the only bound that names one player). */
  public static final String MAILBOX = "mailbox";

  /**
   * The {@link #reason} of another game-state instance's refusal for its capacity (its own bound,
   * named over there).
   */
  public static final String ANOTHER_INSTANCE = "another instance";

  private final String reason;

  public Overloaded(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }

  /** Another game-state instance refused for its capacity (as {@code Held.remote} for a hold). */
  public static Overloaded remote(String detail) {
    return new Overloaded(ANOTHER_INSTANCE, detail);
  }
}
