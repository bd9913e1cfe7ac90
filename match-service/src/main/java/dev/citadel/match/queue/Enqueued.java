package dev.citadel.match.queue;

/**
 * What enqueueing one player did: the enqueue script's answer, parsed once here.
 *
 * @param otherQueue for {@link Outcome#ELSEWHERE}: the queue the player is in already
 */
public record Enqueued(Outcome outcome, String otherQueue) {
  public enum Outcome {
    /** Queued now. */
    OK,
    /** Already waiting in this queue. */
    QUEUED,
    /** Already matched in this queue, waiting for a room. */
    MATCHED,
    /** Playing a match of this queue. */
    IN_GAME,
    /** Waiting, matched or playing in another queue: one queue at a time. */
    ELSEWHERE
  }

  public static final Enqueued OK = new Enqueued(Outcome.OK, null);
  static final String ELSEWHERE_PREFIX = "ELSEWHERE:";

  public static Enqueued elsewhere(String otherQueue) {
    return new Enqueued(Outcome.ELSEWHERE, otherQueue);
  }

  /** The script's word for it: OK, QUEUED, MATCHED, IN_GAME or {@code ELSEWHERE:<queue>}. */
  static Enqueued parse(String wire) {
    if (wire.startsWith(ELSEWHERE_PREFIX)) {
      return elsewhere(wire.substring(ELSEWHERE_PREFIX.length()));
    }
    return new Enqueued(Outcome.valueOf(wire), null);
  }

  public boolean queued() {
    return outcome == Outcome.OK;
  }
}
