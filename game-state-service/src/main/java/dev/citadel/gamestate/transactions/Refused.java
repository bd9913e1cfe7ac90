package dev.citadel.gamestate.transactions;

import dev.citadel.eventstore.StoreBusy;
import dev.citadel.gamestate.aggregate.Overloaded;
import dev.citadel.gamestate.player.PlayerRejected;

/**
 * A transaction did not commit: a participant refused (its rules, a hold, an unknown player), did
 * not answer in time, or the store failed. Nothing of it was stored; every hold was released. The
 * reason decides the HTTP status, at the edge ({@code api.ApiErrors}).
 */
public final class Refused extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why, as the caller should take it. */
  public enum Reason {
    /** Malformed or out-of-range input: sending it again cannot help. */
    INVALID,
    /** A player or match that does not exist. */
    NOT_FOUND,
    /** Too large to take (a peer refused the body's size). */
    TOO_LARGE,
    /** Well-formed, but not something that can be done (a peer's 422). */
    UNPROCESSABLE,
    /** The current state does not allow it (or a player is busy): decided, not lost. */
    CONFLICT,
    /** Nothing was done for want of capacity or an answer: the same request may be sent again. */
    UNAVAILABLE;

    /** A player's rules said no. */
    public static Reason of(PlayerRejected.Kind kind) {
      return switch (kind) {
        case INVALID -> INVALID;
        case NOT_FOUND -> NOT_FOUND;
        case CONFLICT -> CONFLICT;
      };
    }
  }

  private final Reason reason;

  public Refused(Reason reason, String message, Throwable cause) {
    super(message, cause, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }

  /**
   * Refused for an instance's capacity (here or on another instance), certainly before anything was
   * stored. Not one player's full mailbox: that refuses one player's transactions alone.
   */
  public boolean forCapacity() {
    return reason == Reason.UNAVAILABLE && forCapacity(getCause());
  }

  /** Whether a failure is a refusal for capacity, as {@link #forCapacity()} takes its cause. */
  public static boolean forCapacity(Throwable cause) {
    return (cause instanceof Overloaded o && !Overloaded.MAILBOX.equals(o.reason()))
        || cause instanceof StoreBusy;
  }
}
