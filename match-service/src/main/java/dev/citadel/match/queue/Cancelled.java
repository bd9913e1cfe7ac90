package dev.citadel.match.queue;

/** What leaving a queue did: the cancel script's answer, parsed once here. */
public enum Cancelled {
  /** Taken out of the queue. */
  CANCELLED,
  /** Too late: matched already, the match can no longer be left. */
  MATCHED,
  /** Playing. */
  IN_GAME,
  /** Was not in the queue. */
  NOT_QUEUED
}
