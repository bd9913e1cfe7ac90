package dev.citadel.match.matcher;

/** A waiting player as the matcher sees it. */
public record Ticket(String playerId, int elo, long enqueuedAtMs, String nickname) {}
