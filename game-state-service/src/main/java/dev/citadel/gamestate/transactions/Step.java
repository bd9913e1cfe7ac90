package dev.citadel.gamestate.transactions;

import java.util.Map;

/** One participant's part of a transaction: a player command by name, as the API names them. */
public record Step(String playerId, String command, Map<String, Object> args) {}
