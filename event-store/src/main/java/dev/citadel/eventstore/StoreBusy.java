package dev.citadel.eventstore;

/**
 * An append refused at once because too many appends already wait for the database: it was not
 * written (certainly: it never left the queue), and the same append a moment later may pass.
 */
public final class StoreBusy extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public StoreBusy(int queued) {
    super(queued + " appends already wait for the database", null, false, false);
  }
}
