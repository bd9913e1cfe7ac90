package dev.citadel.gamestate.http;

import java.util.List;

/**
 * The reply to a command: the player after it, the names of the events it produced, and whether it
 * is the answer to a repeat (an idempotency key used before: nothing new happened).
 */
public record CommandResponse(PlayerView player, List<String> events, boolean repeated) {}
