package dev.citadel.gamestate.rooms;

import java.util.List;

/** Where a match plays. */
public record Placement(String matchId, int channel, int room, List<String> players) {}
