package dev.citadel.gamestate.transactions;

import java.util.Map;
import reactor.core.publisher.Mono;

/** How the coordinator talks to the instance that owns a player: in-process or over HTTP. */
public interface Participant {
  /** The participant holds the player for as long as ITS configuration says. */
  Mono<Vote> prepare(String txId, String playerId, String command, Map<String, Object> args);

  Mono<Void> commit(String txId, String playerId);

  Mono<Void> abort(String txId, String playerId);
}
