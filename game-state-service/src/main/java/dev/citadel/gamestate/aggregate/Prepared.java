package dev.citadel.gamestate.aggregate;

import java.util.List;

/**
 * A participant's promise at prepare: these events, appended at exactly this expected version, are
 * what the command does to the aggregate. The aggregate stays held until commit, abort or timeout.
 */
public record Prepared<E>(String transactionId, String id, long expectedVersion, List<E> events) {}
