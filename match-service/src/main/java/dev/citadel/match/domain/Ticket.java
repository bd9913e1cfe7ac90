package dev.citadel.match.domain;

/** A waiting player as the matcher sees it. */
public record Ticket(String playerId, int elo, long enqueuedAtMs, String nickname) {}
