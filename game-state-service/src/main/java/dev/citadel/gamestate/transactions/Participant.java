package dev.citadel.gamestate.transactions;

import java.time.Duration;
import java.util.Map;
import reactor.core.publisher.Mono;

/** How the coordinator talks to the instance that owns a player: in-process or over HTTP. */
public interface Participant {
  Mono<Vote> prepare(
      String txId, String playerId, String command, Map<String, Object> args, Duration holdFor);

  Mono<Void> commit(String txId, String playerId);

  Mono<Void> abort(String txId, String playerId);
}
