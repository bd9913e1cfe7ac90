package dev.citadel.eventstore;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.transaction.CannotCreateTransactionException;

/**
 * An append refused because the database could not take it in time, and certainly not written: it
 * never left the queue (too many appends already wait), or no connection could be had for it (the
 * pool's acquire timeout, the database unreachable), so not one statement of it was sent. The same
 * append a moment later may pass; a caller need not look it up.
 */
public final class StoreBusy extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Spring's words for a connection it could not get (ConnectionFactoryUtils). */
  static final String NO_CONNECTION = "Failed to obtain R2DBC Connection";

  public StoreBusy(int queued) {
    super(queued + " appends already wait for the database", null, false, false);
  }

  private StoreBusy(Throwable cause) {
    // Our words only: the detail goes to clients, the cause (Spring's words) to the logs.
    super(
        "the database could not be reached in time; nothing was written: try again",
        cause,
        false,
        false);
  }

  /**
   * {@code error} as a StoreBusy when it says the work never reached the database (no connection,
   * no transaction opened), else {@code error} unchanged. Anything that failed after a statement
   * was sent stays what it was: it may have been written, and is looked up.
   */
  public static Throwable ifNeverSent(Throwable error) {
    if (error instanceof CannotCreateTransactionException
        || (error instanceof DataAccessResourceFailureException
            && error.getMessage() != null
            && error.getMessage().startsWith(NO_CONNECTION))) {
      return new StoreBusy(error);
    }
    return error;
  }
}
