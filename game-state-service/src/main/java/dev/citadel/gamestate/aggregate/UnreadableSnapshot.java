package dev.citadel.gamestate.aggregate;

/**
 * An aggregate this version cannot recover: its newest snapshot is of a type it does not read, and
 * the events before it are gone (retention). Not transient: trying again gives the same answer.
 */
public final class UnreadableSnapshot extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  public UnreadableSnapshot(String message) {
    super(message);
  }
}
