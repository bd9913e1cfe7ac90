package dev.citadel.gamestate.results;

import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.aggregate.KeyReused;
import dev.citadel.gamestate.rooms.MatchRooms;
import dev.citadel.gamestate.rooms.RoomAllocator;
import dev.citadel.gamestate.transactions.Coordinator;
import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.gamestate.transactions.TransactionBatches;
import dev.citadel.protocol.match.v1.Result;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Records a match's result: every player's rating change and reward in one two-phase transaction
 * keyed by the match (so once, however often it is posted), then the end of the game with that
 * result. See docs/game-loop.md.
 */
public final class MatchResults {
  private static final Logger log = LoggerFactory.getLogger(MatchResults.class);

  /** What was recorded; {@code repeated} when this result was recorded before. */
  public record Recorded(String matchId, String queue, Result result, boolean repeated) {}

  private final MatchRooms rooms;
  private final Coordinator coordinator;
  private final Function<String, QueueRules> rules;
  private final Counter recorded;
  private final TransactionBatches batches;

  public MatchResults(
      MatchRooms rooms,
      Coordinator coordinator,
      Function<String, QueueRules> rules,
      MeterRegistry meters) {
    this.rooms = rooms;
    this.coordinator = coordinator;
    this.rules = rules;
    this.batches = new TransactionBatches("result", this::together, meters);
    this.recorded =
        Counter.builder("citadel_match_results")
            .description("Results recorded (ratings and rewards applied)")
            .register(meters);
  }

  /**
   * The match stream decides first: the end is recorded with this result (the first of a result,
   * {@code /end} and the timeout sweep wins; anything else that comes later is 409). Then the
   * ratings and rewards follow that recorded result in one transaction keyed by the match, on every
   * call until one succeeds: a crash between the two leaves the ratings to the game server's retry
   * (it sends the same result until it gets 200), never applies them twice.
   */
  public Mono<Recorded> record(String matchId, Result result, Map<String, Long> scores) {
    return rooms
        .status(matchId)
        .flatMap(
            found -> {
              if (found.isEmpty()) {
                return Mono.error(
                    new Refused(
                        Refused.Reason.NOT_FOUND, "no match " + matchId + " in a room", null));
              }
              RoomAllocator.Status match = found.get();
              for (String player : scores.keySet()) {
                if (!match.players().contains(player)) {
                  return Mono.error(
                      new Refused(
                          Refused.Reason.INVALID,
                          "player " + player + " is not in match " + matchId,
                          null));
                }
              }
              if (match.ended()
                  && (match.end().get().getResult() != result
                      || !match.end().get().getScoresMap().equals(scores))) {
                return Mono.error(
                    conflict(
                        matchId,
                        match.end().get().getResult(),
                        match.end().get().getResult() == result));
              }
              if (match.lineup().isEmpty()) {
                return Mono.error(
                    new Refused(
                        Refused.Reason.CONFLICT,
                        "match " + matchId + " was placed without its teams: end it instead",
                        null));
              }
              // Checked before the end is written: a lineup the rating cannot use must not leave
              // an end with a result that no retry can ever rate.
              List<Step> steps;
              try {
                steps =
                    ResultPlan.steps(
                        matchId, match.queue(), match.lineup(), result, rules.apply(match.queue()));
              } catch (IllegalArgumentException e) {
                return Mono.error(
                    new Refused(
                        Refused.Reason.CONFLICT,
                        "match " + matchId + " cannot be rated (" + e.getMessage() + "): end it",
                        e));
              }
              return rooms
                  .end(match, result, scores)
                  .flatMap(
                      ended -> {
                        Result recorded = ended.map(RoomAllocator.Ended::result).orElse(result);
                        if (recorded != result
                            || !ended
                                .map(RoomAllocator.Ended::scores)
                                .orElse(scores)
                                .equals(scores)) {
                          // lost the race
                          return Mono.error(conflict(matchId, recorded, recorded == result));
                        }
                        // By the key alone: a retry of a result refused before (or whose caller
                        // gave up) applies it now, and is no repeat. Counted where it commits.
                        // Not ended by this call (before, or by a copy that won the race): a
                        // retry, whose key is looked up first.
                        boolean endedBefore = ended.map(e -> !e.endedNow()).orElse(true);
                        return rate(matchId, steps, result, endedBefore)
                            .map(
                                repeated -> new Recorded(matchId, match.queue(), result, repeated));
                      });
            });
  }

  private void recorded(String matchId) {
    recorded.increment();
    log.debug("result of {} recorded", matchId);
  }

  /** Results applied together, each counted when the transaction commits. */
  private Mono<String> together(List<Coordinator.Keyed> txs) {
    return coordinator
        .executeAll(txs)
        .doOnNext(txId -> txs.forEach(t -> recorded(t.key().value())));
  }

  /**
   * Ratings and rewards for the recorded result, once (the key); true if applied before. Applied
   * with the other results that wait at the same time, in one transaction ({@link
   * TransactionBatches}); alone when that fails (not for capacity: then 503).
   */
  private Mono<Boolean> rate(String matchId, List<Step> steps, Result result, boolean endedBefore) {
    IdempotencyKey key = IdempotencyKey.of(RoomAllocator.resultKey(matchId), result.name());
    Coordinator.Keyed tx = new Coordinator.Keyed(steps, key);
    Mono<Boolean> applied =
        batches.submit(tx, t -> alone(matchId, t)).map(Coordinator.Outcome::repeated);
    if (!endedBefore) {
      return applied;
    }
    // The match had ended already: a game server's retry, of a result applied (found: a repeat)
    // or not yet (refused, or its caller gave up waiting), which then waits with the others (or
    // runs alone if its first committed meanwhile: TransactionBatches knows the recent keys). A
    // repeat in a batch would fail the others' transaction with it.
    return Mono.defer(() -> coordinator.stored(steps, key))
        .onErrorMap(e -> cause(e, KeyReused.class), e -> otherResult(matchId))
        .flatMap(found -> found ? Mono.just(true) : applied);
  }

  private static Refused otherResult(String matchId) {
    return new Refused(
        Refused.Reason.CONFLICT, "match " + matchId + " has a different result already", null);
  }

  private Mono<Coordinator.Outcome> alone(String matchId, Coordinator.Keyed tx) {
    // The same result posted again while the first is in flight finds its players held: tried
    // again until the first committed, then its key answers (never applied twice).
    return Mono.defer(() -> coordinator.execute(tx.steps(), tx.key()))
        .retryWhen(
            Retry.backoff(BUSY_RETRIES, Duration.ofMillis(20))
                .maxBackoff(Duration.ofMillis(500))
                .jitter(0.5)
                .filter(MatchResults::busy)
                .onRetryExhaustedThrow((spec, signal) -> signal.failure()))
        .onErrorMap(e -> cause(e, KeyReused.class), e -> otherResult(matchId))
        .onErrorMap(
            MatchResults::busy,
            e ->
                new Refused(
                    Refused.Reason.UNAVAILABLE,
                    "the players of match " + matchId + " are busy; send the same result again",
                    null))
        .doOnNext(
            outcome -> {
              if (!outcome.repeated()) {
                recorded(matchId);
              }
            });
  }

  private static final int BUSY_RETRIES = 10;

  private static boolean busy(Throwable e) {
    return e instanceof Refused r
        && (r.getCause() instanceof Held || r.getCause() instanceof ConcurrencyConflict);
  }

  private static boolean cause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  private static Refused conflict(String matchId, Result before, boolean otherScores) {
    return new Refused(
        Refused.Reason.CONFLICT,
        before == Result.RESULT_NONE
            ? "match " + matchId + " ended without a result"
            : otherScores
                ? "match " + matchId + " has this result already, with other scores"
                : "match " + matchId + " has a different result already",
        null);
  }
}
