package dev.citadel.match.queue;

/**
 * Where a player stands in one queue, with what goes with it: since when and how many wait ({@link
 * QueueState#WAITING}), the match ({@code MATCHED}), the match and its room ({@code IN_GAME}).
 */
public record QueueStatus(
    String queue,
    QueueState state,
    Long waitingSinceMs,
    Long playersWaiting,
    String matchId,
    Integer channel,
    Integer room) {}
