package dev.citadel.gamestate.transactions;

/**
 * The store failed in a way that does not say whether the transaction was written (a lost reply),
 * and looking its key up failed too. Participants reload before their next command; a caller that
 * retries with the same key gets the answer of whatever did happen. {@code clientKey}: the key
 * comes from the request (its Idempotency-Key, or the match of a result), so sending it again finds
 * what happened; without one, only the players' state can tell.
 */
final class OutcomeUnknown extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final boolean clientKey;

  OutcomeUnknown(Throwable cause, boolean clientKey) {
    super("the store may or may not have written the transaction", cause);
    this.clientKey = clientKey;
  }

  boolean clientKey() {
    return clientKey;
  }
}
