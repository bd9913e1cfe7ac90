package dev.citadel.gamestate.rooms;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerRejected;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.Unprocessable;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import dev.citadel.protocol.match.v1.MatchEnded;
import dev.citadel.protocol.match.v1.MatchPlaced;
import dev.citadel.protocol.match.v1.Result;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * The players' seats, following the match streams from the journal's outbox topic (keyed by stream,
 * so a match's events arrive in the order they were written): {@code MatchPlaced} seats its
 * players; {@code MatchEnded} announces {@code match.ended}, then takes them out of the room (and
 * records the leave even for a player whose seat has not landed, so that seat is refused when it
 * does). An end with a result leaves that to the result's rating transaction, and takes them out
 * only if that is not stored a while later ({@link #RATED_WITHIN}). An end is announced once per
 * end (not per call), and a redelivered {@code match.found} adds nothing to the journal, so it
 * seats nobody again.
 *
 * <p>One unit on purpose (over 300 lines): seating, leaving and the late leave after a result are
 * one follower with one set of rules for a held player, a refusal and a failed batch.
 */
final class MatchSeats {
  private static final Logger log = LoggerFactory.getLogger(MatchSeats.class);
  static final int SEATING_CONCURRENCY = 256;
  static final int HELD_RETRIES = 10;

  /**
   * How long a result's rating transaction has, by default, to take its players out of the room:
   * longer than a result may wait behind others for its turn (up to 4,096 of them at a hundred or
   * more a second), so a backlog is not met with a leave per player of every waiting result.
   */
  static final Duration RATED_WITHIN = Duration.ofSeconds(30);

  /** Ends with a result whose leave waits at most this many at once; past it, leave at once. */
  static final int LATER_CHECKS = 20_000;

  /** How often a failed later look-up or leave is tried again, and the longest pause between. */
  static final int LATER_TRIES = 5;

  private static final Duration MAX_PAUSE = Duration.ofSeconds(30);

  private static final String LEAVES_DESCRIPTION =
      "Ends with a result looked at again: rated in time (its players left the room with it), or"
          + " not (taken out by the seats)";

  private final Semaphore laterChecks = new Semaphore(LATER_CHECKS);
  private static final String PLACED_TYPE = MatchPlaced.getDescriptor().getFullName();
  private static final String ENDED_TYPE = MatchEnded.getDescriptor().getFullName();

  private final RoomAllocator rooms;
  private final MessagePublisher publisher;
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Clock clock;
  private final String endedTopic;
  private final Duration ratedWithin;
  private final Counter rated;
  private final Counter unrated;

  MatchSeats(
      RoomAllocator rooms,
      MessagePublisher publisher,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      Clock clock,
      String endedTopic,
      Duration ratedWithin,
      MeterRegistry meters) {
    this.rooms = rooms;
    this.publisher = publisher;
    this.players = players;
    this.clock = clock;
    this.endedTopic = endedTopic;
    this.ratedWithin = ratedWithin;
    this.rated =
        Counter.builder("citadel_result_leaves")
            .tag("outcome", "rated")
            .description(LEAVES_DESCRIPTION)
            .register(meters);
    this.unrated =
        Counter.builder("citadel_result_leaves")
            .tag("outcome", "unrated")
            .description(LEAVES_DESCRIPTION)
            .register(meters);
  }

  /** A match stream's event that moves its players. */
  private sealed interface Step {
    String key();

    List<String> players();
  }

  private record Seat(String key, MatchPlaced placed) implements Step {
    public List<String> players() {
      return placed.getPlayerIdsList();
    }
  }

  private record Leave(String key, MatchEnded ended) implements Step {
    public List<String> players() {
      return ended.getPlayerIdsList();
    }
  }

  /**
   * Follows the match streams from the journal's outbox topic (every other event is skipped): each
   * stream's events in order, streams in parallel. {@code MatchPlaced} seats its players; {@code
   * MatchEnded} announces {@code match.ended}, then its players leave the room (after a result,
   * only if its rating transaction did not take them out). A placement whose end is in the same
   * batch seats nobody. One query first finds which players have game state (players queued in bulk
   * by a load test have none). A refusal by the player's rules is final and skipped; any other
   * failure fails the batch, which is delivered again (every step is idempotent).
   */
  Mono<Void> follow(List<IncomingMessage> messages) {
    List<Step> steps = new ArrayList<>();
    for (IncomingMessage message : messages) {
      String type = message.headers().get("event-type");
      if (!PLACED_TYPE.equals(type) && !ENDED_TYPE.equals(type)) {
        continue;
      }
      try {
        EventEnvelope envelope = EventEnvelope.parseFrom(message.value());
        if (!envelope.getAggregateType().equals(RoomAllocator.MATCH_TYPE)) {
          continue;
        }
        if (PLACED_TYPE.equals(type)) {
          steps.add(new Seat(message.key(), MatchPlaced.parseFrom(envelope.getPayload())));
        } else {
          steps.add(new Leave(message.key(), MatchEnded.parseFrom(envelope.getPayload())));
        }
      } catch (InvalidProtocolBufferException e) {
        return Mono.error(new Unprocessable("not a match event", e));
      }
    }
    if (steps.isEmpty()) {
      return Mono.empty();
    }
    List<String> placed =
        steps.stream()
            .filter(s -> s instanceof Seat)
            .map(s -> ((Seat) s).placed().getMatchId())
            .distinct()
            .toList();
    return Mono.zip(
            players.existing(steps.stream().flatMap(s -> s.players().stream()).distinct().toList()),
            rooms.outcomes(placed))
        .flatMapMany(
            t -> {
              Set<String> known = t.getT1();
              Map<String, RoomAllocator.Outcome> outcomes = t.getT2();
              return Flux.fromIterable(steps)
                  // A placement whose game is over seats nobody (a replay, or a publisher that
                  // took over republishing it after the end).
                  .filter(
                      s ->
                          !(s instanceof Seat seat
                              && outcomes.get(seat.placed().getMatchId())
                                  instanceof RoomAllocator.Outcome.Over))
                  .groupBy(Step::key)
                  .flatMap(stream -> stream.concatMap(s -> apply(s, known)), SEATING_CONCURRENCY);
            })
        .then();
  }

  private Mono<Void> apply(Step step, Set<String> known) {
    List<String> present = step.players().stream().filter(known::contains).toList();
    if (step instanceof Seat seat) {
      MatchPlaced p = seat.placed();
      var join = new PlayerCommand.JoinRoom(p.getMatchId(), p.getChannel(), p.getRoom());
      return Flux.fromIterable(present).flatMap(player -> join(player, join)).then();
    }
    MatchEnded e = ((Leave) step).ended();
    Mono<Void> announce =
        publisher.publish(new OutgoingMessage(endedTopic, e.getMatchId(), e.toByteArray())).then();
    if (e.getResult() != Result.RESULT_NONE && !present.isEmpty()) {
      // A result: its rating transaction takes every player out of the room (see MatchRating),
      // moments from now. Leaving here too would race it (a leave stored first makes the whole
      // transaction conflict and run again). The leave waits instead and runs only if that
      // transaction is not stored by then: a game server that gave up, a result refused for good.
      // (Taken once announced, so a batch that fails before is not counted as waiting.)
      return announce.then(
          Mono.defer(
              () -> {
                if (!laterChecks.tryAcquire()) {
                  return leave(e.getMatchId(), present);
                }
                leaveUnlessRated(e.getMatchId(), present); // releases the permit when done
                return Mono.empty();
              }));
    }
    return announce.then(leave(e.getMatchId(), present));
  }

  private Mono<Void> leave(String matchId, List<String> present) {
    return Flux.fromIterable(present)
        .flatMap(player -> run(player, new PlayerCommand.LeaveRoom(matchId)))
        .then();
  }

  /**
   * After {@code ratedWithin} ({@link #RATED_WITHIN}), the players leave unless the result's
   * transaction is stored (its key on one of them: it is stored for all of them or none); a failed
   * look-up or leave is tried again a few times. In memory: a restart of this instance loses the
   * pending ones. Then a result the game server still sends (it does until answered) takes them out
   * of the room; one refused for good leaves its players seated in a game that is over, which
   * queueing ignores and their next seat clears.
   */
  private void leaveUnlessRated(String matchId, List<String> present) {
    Retry again = Retry.backoff(LATER_TRIES, Duration.ofSeconds(1)).maxBackoff(MAX_PAUSE);
    Mono.delay(ratedWithin)
        .then(Mono.defer(() -> rooms.rated(matchId, present.get(0))).retryWhen(again))
        .flatMap(
            done -> {
              (done ? rated : unrated).increment(); // once per look-up that answered
              // Leaving again after a partial failure is a no-op for those who left.
              return done ? Mono.<Void>empty() : leave(matchId, present).retryWhen(again);
            })
        .doFinally(signal -> laterChecks.release())
        .subscribe(
            done -> {},
            failure ->
                log.warn(
                    "players of {} not taken out of its room after its result: {}",
                    matchId,
                    failure.toString()));
  }

  /**
   * Seats a player. One still seated in another match whose game is over (its end is on another
   * partition, not followed yet) leaves it first: the newer match was formed after match-service
   * saw that end. A player in another match that is still on keeps it. A player whose end of this
   * match was followed already (the seat of an earlier, failed attempt landed late, or another
   * instance followed the end first) is not seated: the player refuses it.
   */
  private Mono<Void> join(String player, PlayerCommand.JoinRoom join) {
    return run(player, join)
        .onErrorResume(
            PlayerRejected.class,
            refused ->
                players
                    .get(player)
                    // Refused because this game is over for the player (its end was followed
                    // before this seat): nothing to do.
                    .filter(current -> !current.state().hasLeft(join.matchId()))
                    .flatMap(
                        current ->
                            current.state().room().isEmpty()
                                // Refused while seated elsewhere, and that seat has been left
                                // since (the other match's leave or its rating came between):
                                // nothing stands in the way now. (Before, the seat was dropped.)
                                ? (refused.kind() == PlayerRejected.Kind.CONFLICT
                                    ? run(player, join)
                                        .onErrorResume(
                                            PlayerRejected.class,
                                            again -> {
                                              log.warn(
                                                  "{} not seated in {}: {}",
                                                  player,
                                                  join.matchId(),
                                                  again.getMessage());
                                              return Mono.empty();
                                            })
                                    : Mono.empty())
                                : Mono.justOrEmpty(current.state().room())
                                    .filter(seat -> !seat.matchId().equals(join.matchId()))
                                    .flatMap(
                                        seat ->
                                            rooms
                                                .status(seat.matchId())
                                                .flatMap(
                                                    other -> {
                                                      if (other.isPresent()
                                                          && !other.get().ended()) {
                                                        log.warn(
                                                            "{} not seated in {}: still in live match {}",
                                                            player,
                                                            join.matchId(),
                                                            seat.matchId());
                                                        return Mono.empty();
                                                      }
                                                      return run(
                                                              player,
                                                              new PlayerCommand.LeaveRoom(
                                                                  seat.matchId()))
                                                          .then(run(player, join));
                                                    })))
                    .then());
  }

  private Mono<Void> run(String player, PlayerCommand command) {
    return Mono.defer(() -> players.handle(player, command, clock.instant()))
        // A player held by a transaction (a result being rated, a gift) is waited for, this
        // player alone: failing would send the whole batch again, every other player's step with
        // it, and meet the same hold again. A hold ends with its transaction or lapses; past
        // these tries the batch fails and is delivered again, as for any other failure.
        .retryWhen(
            Retry.backoff(HELD_RETRIES, Duration.ofMillis(20))
                .maxBackoff(Duration.ofSeconds(1))
                .jitter(0.5)
                .filter(Held.class::isInstance)
                .onRetryExhaustedThrow((spec, signal) -> signal.failure()))
        .onErrorResume(
            PlayerRejected.class,
            e -> {
              if (command instanceof PlayerCommand.JoinRoom
                  && e.kind() == PlayerRejected.Kind.CONFLICT) {
                return Mono.error(e); // join() looks at the other match
              }
              log.info(
                  "{} for {} refused: {}",
                  command.getClass().getSimpleName(),
                  player,
                  e.getMessage());
              return Mono.empty();
            })
        .then();
  }
}
