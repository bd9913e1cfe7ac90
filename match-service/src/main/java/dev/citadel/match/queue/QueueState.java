package dev.citadel.match.queue;

/** Where a player stands in one queue. */
public enum QueueState {
  /** In the queue, waiting for a match. */
  WAITING,
  /** In a match whose room is not confirmed yet. */
  MATCHED,
  /** In a match with a room: playing. */
  IN_GAME,
  /** Not in this queue. */
  NOT_QUEUED
}
