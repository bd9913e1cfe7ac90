package dev.citadel.gamestate.api;

import java.util.List;

/** The reply to a command: the player after it, and the names of the events it produced. */
public record CommandResponse(PlayerView player, List<String> events) {}
