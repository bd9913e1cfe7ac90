package dev.citadel.gamestate.aggregate;

/**
 * The aggregate is held by a two-phase transaction: other commands and transactions are refused at
 * once (no waiting, so two transactions holding the same players in opposite order can never
 * deadlock; the one refused aborts and may be retried).
 */
public final class Held extends RuntimeException implements Rejection {
  private static final long serialVersionUID = 1L;

  private final String transactionId;

  public Held(String id, String transactionId) {
    super(id + " is held by transaction " + transactionId + "; try again", null, false, false);
    this.transactionId = transactionId;
  }

  private Held(String message) {
    super(message, null, false, false);
    this.transactionId = "";
  }

  /** Another instance answered that its player is held (its problem said {@code busy}). */
  public static Held remote(String detail) {
    return new Held(detail);
  }

  public String transactionId() {
    return transactionId;
  }
}
