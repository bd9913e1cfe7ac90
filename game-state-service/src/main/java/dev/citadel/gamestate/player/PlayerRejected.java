package dev.citadel.gamestate.player;

import dev.citadel.gamestate.aggregate.Rejection;

/** A command the player's rules refuse. The kind decides the HTTP status, in one place. */
public final class PlayerRejected extends RuntimeException implements Rejection {
  private static final long serialVersionUID = 1L;

  public enum Kind {
    /** Malformed or out-of-range input: 400. */
    INVALID,
    /** No such player: 404. */
    NOT_FOUND,
    /** Valid input that the current state does not allow: 409. */
    CONFLICT
  }

  private final Kind kind;

  public PlayerRejected(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  static PlayerRejected invalid(String message) {
    return new PlayerRejected(Kind.INVALID, message);
  }

  static PlayerRejected conflict(String message) {
    return new PlayerRejected(Kind.CONFLICT, message);
  }
}
