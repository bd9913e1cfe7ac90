package dev.citadel.gamestate.aggregate;

/**
 * The aggregate is held by a two-phase transaction: other commands and transactions are refused at
 * once (no waiting, so two transactions holding the same players in opposite order can never
 * deadlock; the one refused aborts and may be retried).
 */
public final class Held extends RuntimeException implements Rejection {
  private final String transactionId;

  public Held(String id, String transactionId) {
    super(id + " is held by transaction " + transactionId + "; try again", null, false, false);
    this.transactionId = transactionId;
  }

  public String transactionId() {
    return transactionId;
  }
}
