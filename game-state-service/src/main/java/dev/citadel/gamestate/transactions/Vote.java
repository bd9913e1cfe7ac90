package dev.citadel.gamestate.transactions;

import dev.citadel.eventstore.EventData;
import java.util.List;

/** A participant's yes at prepare: its events, to be stored at exactly this expected version. */
public record Vote(String playerId, long expectedVersion, List<EventData> events) {}
