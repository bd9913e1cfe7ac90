package dev.citadel.gamestate.rooms;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.Unprocessable;
import dev.citadel.protocol.match.v1.MatchEnded;
import dev.citadel.protocol.match.v1.MatchFound;
import dev.citadel.protocol.match.v1.MatchRejected;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.protocol.match.v1.RoomAssigned;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A match's life in game-state, decided at one point (version 1 of the match's stream, see {@link
 * RoomAllocator}) and followed in that order.
 *
 * <p>{@code match.found} is consumed in batches per partition: placements in one transaction,
 * cancel requests (same topic and key, so after their match) one by one; every match is answered
 * ({@code match.room-assigned} or {@code match.rejected}) before the offsets may be committed. A
 * match whose game is over is answered with its end ({@code match.ended}), never with its room.
 *
 * <p>The players' own state follows the match stream itself ({@link MatchSeats}).
 */
public final class MatchRooms {
  private static final Logger log = LoggerFactory.getLogger(MatchRooms.class);
  static final String GROUP = "game-state.rooms";
  static final String SEATS_GROUP = "game-state.match-seats";
  static final int MAX_BATCH = 200;
  static final String CANCELLED = "cancelled";

  private final RoomAllocator rooms;
  private final MessagePublisher publisher;
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Clock clock;
  private final String foundTopic;
  private final String assignedTopic;
  private final String rejectedTopic;
  private final String endedTopic;
  private final String journalTopic;
  private final Counter assignedAnswers;
  private final Counter rejectedAnswers;
  private final Counter overAnswers;
  private final MatchSeats seats;

  /** How long a result's rating transaction has to take its players out of the room. */
  public static final java.time.Duration RATED_WITHIN = MatchSeats.RATED_WITHIN;

  /**
   * @param ratedWithin how long a result's rating transaction has to take its players out of the
   *     room before the seats do ({@link #RATED_WITHIN})
   */
  public MatchRooms(
      RoomAllocator rooms,
      MessagePublisher publisher,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      Clock clock,
      String foundTopic,
      String assignedTopic,
      String rejectedTopic,
      String endedTopic,
      String journalTopic,
      java.time.Duration ratedWithin,
      MeterRegistry meters) {
    this.rooms = rooms;
    this.publisher = publisher;
    this.players = players;
    this.clock = clock;
    this.foundTopic = foundTopic;
    this.assignedTopic = assignedTopic;
    this.rejectedTopic = rejectedTopic;
    this.endedTopic = endedTopic;
    this.journalTopic = journalTopic;
    this.seats = new MatchSeats(rooms, publisher, players, clock, endedTopic, ratedWithin, meters);
    this.assignedAnswers =
        Counter.builder("citadel_match_placements")
            .tag("outcome", "assigned")
            .description("match.found answered (a redelivered match is answered again)")
            .register(meters);
    this.rejectedAnswers =
        Counter.builder("citadel_match_placements").tag("outcome", "rejected").register(meters);
    this.overAnswers =
        Counter.builder("citadel_match_placements")
            .tag("outcome", "over")
            .description("match.found for a game that is over: answered with its end")
            .register(meters);
  }

  /**
   * Placement and cancels (group {@value #GROUP}), and the players' seats following the match
   * streams in the journal (group {@value #SEATS_GROUP}).
   */
  public Disposable start(MessageConsumer consumer) {
    return Disposables.composite(
        consumer.startBatched(GROUP, List.of(foundTopic), MAX_BATCH, this::handle),
        consumer.startBatched(SEATS_GROUP, List.of(journalTopic), MAX_BATCH, seats::follow));
  }

  /**
   * A game is over: its room is freed and {@code MatchEnded} recorded in one transaction (see
   * {@link RoomAllocator#end}). The news ({@code match.ended}) and the players leaving the room
   * follow from the journal, once, however often this is called. Empty if no such match was placed.
   */
  public Mono<Optional<RoomAllocator.Ended>> end(String matchId) {
    return rooms.end(matchId, clock.instant());
  }

  /** The same, recording the game's result (an end recorded before keeps its own). */
  public Mono<Optional<RoomAllocator.Ended>> end(
      String matchId, dev.citadel.protocol.match.v1.Result result, Map<String, Long> scores) {
    return rooms.end(matchId, clock.instant(), result, scores);
  }

  /**
   * The same, from the match's status just read (see {@link RoomAllocator#end(RoomAllocator.Status,
   * Instant, dev.citadel.protocol.match.v1.Result, Map)}).
   */
  public Mono<Optional<RoomAllocator.Ended>> end(
      RoomAllocator.Status known,
      dev.citadel.protocol.match.v1.Result result,
      Map<String, Long> scores) {
    return rooms.end(known, clock.instant(), result, scores);
  }

  /** A placed match's room, players and whether it ended; empty if it was never placed. */
  public Mono<Optional<RoomAllocator.Status>> status(String matchId) {
    return rooms.status(matchId);
  }

  /**
   * Places a partition's batch of matches in one transaction, then decides its cancel requests, and
   * answers every match once (assigned, rejected, or ended for a game that is over). Only then may
   * the offsets be committed. A cancel follows its match.found in the partition, so placing the
   * batch's matches before its cancels keeps each match's order.
   */
  Mono<Void> handle(List<IncomingMessage> messages) {
    List<MatchFound> toPlace = new ArrayList<>(messages.size());
    List<MatchFound> toCancel = new ArrayList<>();
    for (IncomingMessage message : messages) {
      try {
        MatchFound f = MatchFound.parseFrom(message.value());
        (f.getCancel() ? toCancel : toPlace).add(f);
      } catch (InvalidProtocolBufferException e) {
        return Mono.error(new Unprocessable("not a MatchFound", e));
      }
    }
    List<RoomAllocator.Request> requests =
        toPlace.stream()
            .map(
                f ->
                    new RoomAllocator.Request(
                        f.getMatchId(),
                        f.getPlayersList().stream().map(MatchedPlayer::getPlayerId).toList(),
                        f.getQueue(),
                        f.getPlayersList()))
            .toList();
    Instant now = clock.instant();
    Map<String, RoomAllocator.Outcome> decided = new LinkedHashMap<>();
    Map<String, MatchFound> asked = new LinkedHashMap<>();
    return rooms
        .placeAll(requests, now)
        .doOnNext(
            outcomes -> {
              for (int i = 0; i < toPlace.size(); i++) {
                decided.put(toPlace.get(i).getMatchId(), outcomes.get(i));
                asked.putIfAbsent(toPlace.get(i).getMatchId(), toPlace.get(i));
              }
            })
        .thenMany(
            Flux.fromIterable(toCancel)
                // one decision per match (cancels repeat every deadline while nobody answers),
                // and none for a match this batch just placed or refused
                .filter(c -> !decided.containsKey(c.getMatchId()))
                .distinct(MatchFound::getMatchId)
                .concatMap(
                    c ->
                        rooms
                            .cancel(c.getMatchId(), c.getQueue(), CANCELLED, now)
                            .doOnNext(
                                o -> {
                                  decided.put(c.getMatchId(), o);
                                  asked.putIfAbsent(c.getMatchId(), c);
                                })))
        .then(Mono.defer(() -> answer(asked, decided)));
  }

  /** One answer per match, whatever the batch held for it. */
  private Mono<Void> answer(
      Map<String, MatchFound> asked, Map<String, RoomAllocator.Outcome> decided) {
    List<OutgoingMessage> answers = new ArrayList<>(decided.size());
    long[] counts = new long[3];
    decided.forEach(
        (matchId, outcome) -> {
          MatchFound f = asked.get(matchId);
          if (outcome instanceof RoomAllocator.Outcome.Placed p) {
            answers.add(assigned(f, p.placement()));
            counts[0]++;
          } else if (outcome instanceof RoomAllocator.Outcome.Refused r) {
            answers.add(rejected(f, r.reason()));
            counts[1]++;
          } else {
            // Its game is over: answered with its end, so a match-service that still waits for
            // the room (its answer was lost) releases the players instead of asking forever.
            answers.add(ended(f, ((RoomAllocator.Outcome.Over) outcome).placement()));
            counts[2]++;
          }
        });
    return Flux.fromIterable(answers)
        .flatMap(publisher::publish, Math.max(1, answers.size()))
        .then()
        .doOnSuccess(
            v -> {
              assignedAnswers.increment(counts[0]);
              rejectedAnswers.increment(counts[1]);
              overAnswers.increment(counts[2]);
            });
  }

  private OutgoingMessage assigned(MatchFound f, Placement p) {
    return new OutgoingMessage(
        assignedTopic,
        p.matchId(),
        RoomAssigned.newBuilder()
            .setMatchId(p.matchId())
            .setQueue(f.getQueue())
            .setChannel(p.channel())
            .setRoom(p.room())
            .addAllPlayerIds(p.players())
            .build()
            .toByteArray());
  }

  private OutgoingMessage ended(MatchFound f, Placement p) {
    return new OutgoingMessage(
        endedTopic,
        p.matchId(),
        MatchEnded.newBuilder()
            .setMatchId(p.matchId())
            .setQueue(f.getQueue())
            .setChannel(p.channel())
            .setRoom(p.room())
            .addAllPlayerIds(p.players())
            .build()
            .toByteArray());
  }

  private OutgoingMessage rejected(MatchFound f, String reason) {
    return new OutgoingMessage(
        rejectedTopic,
        f.getMatchId(),
        MatchRejected.newBuilder()
            .setMatchId(f.getMatchId())
            .setQueue(f.getQueue())
            .setReason(reason)
            .build()
            .toByteArray());
  }

  /** See {@link MatchSeats#follow}. */
  Mono<Void> follow(List<IncomingMessage> messages) {
    return seats.follow(messages);
  }
}
