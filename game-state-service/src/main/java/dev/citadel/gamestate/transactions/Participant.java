package dev.citadel.gamestate.transactions;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Signal;

/** How the coordinator talks to the instance that owns a player: in-process or over HTTP. */
public interface Participant {
  /** The participant holds the player for as long as ITS configuration says. */
  Mono<Vote> prepare(String txId, String playerId, String command, Map<String, Object> args);

  Mono<Void> commit(String txId, String playerId);

  Mono<Void> abort(String txId, String playerId);

  /**
   * Every step this participant has in the transaction, in one call: the votes in the steps' order.
   * Each step is tried even when another fails (so a hold that is taken is taken before the failure
   * is reported, and the coordinator's abort finds it); then the failure of the first step that
   * failed, in the steps' order, is raised as it is (never a composite of several, which would hide
   * a busy player from the coordinator's retry).
   */
  default Mono<List<Vote>> prepareAll(String txId, List<Step> steps) {
    return allThenFirstFailure(
        Flux.fromIterable(steps)
            .flatMapSequential(
                s -> prepare(txId, s.playerId(), s.command(), s.args()).materialize(),
                Math.max(1, steps.size()),
                1));
  }

  /** Commits each of these players, every one even when another fails; then the first failure. */
  default Mono<Void> commitAll(String txId, List<String> playerIds) {
    return allThenFirstFailure(
            Flux.fromIterable(playerIds)
                .flatMapSequential(
                    id -> commit(txId, id).materialize(), Math.max(1, playerIds.size()), 1))
        .then();
  }

  /**
   * The same, with the coordinator's word on what its own append stored: {@code stored} maps each
   * player whose vote's events it wrote to the version the vote expected (empty after a lookup, a
   * repeat, or nothing to write). A participant may apply such a vote without reading the journal;
   * by default, every player is committed from the journal as above.
   */
  default Mono<Void> commitAll(String txId, List<String> playerIds, Map<String, Long> stored) {
    return commitAll(txId, playerIds);
  }

  /**
   * Aborts for each of these players, every one even when another fails; then the first failure.
   */
  default Mono<Void> abortAll(String txId, List<String> playerIds) {
    return allThenFirstFailure(
            Flux.fromIterable(playerIds)
                .flatMapSequential(
                    id -> abort(txId, id).materialize(), Math.max(1, playerIds.size()), 1))
        .then();
  }

  /** The values, once every signal is in; or the first failure among them. */
  static <T> Mono<List<T>> allThenFirstFailure(Flux<Signal<T>> signals) {
    return signals
        .collectList()
        .flatMap(
            all -> {
              List<T> values = new ArrayList<>(all.size());
              for (Signal<T> signal : all) {
                if (signal.isOnError()) {
                  return Mono.error(signal.getThrowable());
                }
                if (signal.isOnNext()) {
                  values.add(signal.get());
                }
              }
              return Mono.just(values);
            });
  }
}
