package dev.citadel.match.queue;

/**
 * Where a player stands in one queue.
 *
 * @param state WAITING, MATCHED (room pending), IN_GAME or NOT_QUEUED
 */
public record QueueStatus(
    String queue,
    String state,
    Long waitingSinceMs,
    Long playersWaiting,
    String matchId,
    Integer channel,
    Integer room) {}
