package dev.citadel.gamestate.rooms;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerRejected;
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
 * Consumes {@code match.found} in batches per partition: places the matches in rooms (durable,
 * idempotent by match id), answers {@code match.room-assigned} or {@code match.rejected}, and only
 * then lets the offsets be committed. The players' own state records the room from the {@code
 * match.room-assigned} answer, in a second consumer group.
 */
public final class MatchRooms {
  private static final Logger log = LoggerFactory.getLogger(MatchRooms.class);
  static final String GROUP = "game-state.rooms";
  static final String SEATING_GROUP = "game-state.seating";
  static final String LEAVING_GROUP = "game-state.leaving";
  static final int MAX_BATCH = 200;
  static final int SEATING_CONCURRENCY = 256;

  private final RoomAllocator rooms;
  private final MessagePublisher publisher;
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Clock clock;
  private final String foundTopic;
  private final String assignedTopic;
  private final String rejectedTopic;
  private final String endedTopic;
  private final Counter assignedAnswers;
  private final Counter rejectedAnswers;

  public MatchRooms(
      RoomAllocator rooms,
      MessagePublisher publisher,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      Clock clock,
      String foundTopic,
      String assignedTopic,
      String rejectedTopic,
      String endedTopic,
      MeterRegistry meters) {
    this.rooms = rooms;
    this.publisher = publisher;
    this.players = players;
    this.clock = clock;
    this.foundTopic = foundTopic;
    this.assignedTopic = assignedTopic;
    this.rejectedTopic = rejectedTopic;
    this.endedTopic = endedTopic;
    this.assignedAnswers =
        Counter.builder("citadel_match_placements")
            .tag("outcome", "assigned")
            .description("match.found answered (a redelivered match is answered again)")
            .register(meters);
    this.rejectedAnswers =
        Counter.builder("citadel_match_placements").tag("outcome", "rejected").register(meters);
  }

  /**
   * Placement (group {@value #GROUP}), seating (group {@value #SEATING_GROUP}) and leaving rooms
   * when games end (group {@value #LEAVING_GROUP}).
   */
  public Disposable start(MessageConsumer consumer) {
    return Disposables.composite(
        consumer.startBatched(GROUP, List.of(foundTopic), MAX_BATCH, this::handle),
        consumer.startBatched(SEATING_GROUP, List.of(assignedTopic), MAX_BATCH, this::seat),
        consumer.startBatched(LEAVING_GROUP, List.of(endedTopic), MAX_BATCH, this::leave));
  }

  /**
   * A game is over: its room is freed (durably, see {@link RoomAllocator#end}), then {@code
   * match.ended} tells match-service (players back to the lobby) and this service's leaving group
   * (the players' state leaves the room). Idempotent: ending a match again frees nothing more and
   * sends the news again, so a caller that saw an error just calls again. Empty if no such match
   * was placed.
   */
  public Mono<Optional<RoomAllocator.Ended>> end(String matchId) {
    Instant now = clock.instant();
    return rooms
        .end(matchId, now)
        .flatMap(
            ended ->
                ended.isEmpty()
                    ? Mono.just(ended)
                    : publisher
                        .publish(
                            new OutgoingMessage(
                                endedTopic,
                                matchId,
                                RoomAllocator.message(ended.get(), now).toByteArray()))
                        .thenReturn(ended));
  }

  /** A placed match's room, players and whether it ended; empty if it was never placed. */
  public Mono<Optional<RoomAllocator.Status>> status(String matchId) {
    return rooms.status(matchId);
  }

  /** Each player of an ended game leaves its room (LeaveRoom is idempotent). */
  Mono<Void> leave(List<IncomingMessage> messages) {
    List<Map.Entry<String, PlayerCommand>> moves = new ArrayList<>();
    for (IncomingMessage message : messages) {
      try {
        MatchEnded e = MatchEnded.parseFrom(message.value());
        e.getPlayerIdsList()
            .forEach(p -> moves.add(Map.entry(p, new PlayerCommand.LeaveRoom(e.getMatchId()))));
      } catch (InvalidProtocolBufferException e) {
        return Mono.error(new Unprocessable("not a MatchEnded", e));
      }
    }
    return applyToExisting(moves);
  }

  /**
   * Places a partition's batch of matches in one transaction, answers every match (assigned or
   * rejected), then seats the players. Only then may the offsets be committed.
   */
  Mono<Void> handle(List<IncomingMessage> messages) {
    List<MatchFound> found = new ArrayList<>(messages.size());
    for (IncomingMessage message : messages) {
      try {
        found.add(MatchFound.parseFrom(message.value()));
      } catch (InvalidProtocolBufferException e) {
        return Mono.error(new Unprocessable("not a MatchFound", e));
      }
    }
    List<RoomAllocator.Request> requests =
        found.stream()
            .map(
                f ->
                    new RoomAllocator.Request(
                        f.getMatchId(),
                        f.getPlayersList().stream().map(MatchedPlayer::getPlayerId).toList(),
                        f.getQueue()))
            .toList();
    return rooms
        .placeAll(requests, clock.instant())
        .flatMap(
            placements -> {
              List<OutgoingMessage> answers = new ArrayList<>(found.size());
              for (int i = 0; i < found.size(); i++) {
                MatchFound f = found.get(i);
                Optional<Placement> placed = placements.get(i);
                answers.add(placed.map(p -> assigned(f, p)).orElseGet(() -> rejected(f)));
              }
              long placedCount = placements.stream().filter(Optional::isPresent).count();
              return Flux.fromIterable(answers)
                  .flatMap(publisher::publish, answers.size())
                  .then()
                  .doOnSuccess(
                      v -> {
                        assignedAnswers.increment(placedCount);
                        rejectedAnswers.increment(found.size() - placedCount);
                      });
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

  private OutgoingMessage rejected(MatchFound f) {
    return new OutgoingMessage(
        rejectedTopic,
        f.getMatchId(),
        MatchRejected.newBuilder()
            .setMatchId(f.getMatchId())
            .setQueue(f.getQueue())
            .setReason("no free room")
            .build()
            .toByteArray());
  }

  /**
   * Records the seat in each player's state, from {@code match.room-assigned}: apart from the
   * placement, so placing is never slowed by it, yet at least once (the offsets follow the seats).
   * One query first finds which players have game state (players queued in bulk by a load test have
   * none, and recovering each to learn that costs a query per player); JoinRoom is idempotent for
   * the same seat. A refusal by the player's rules is final and skipped; any other failure (the
   * store is down, the player is held by a transaction) fails the batch, which is retried.
   */
  Mono<Void> seat(List<IncomingMessage> messages) {
    List<Map.Entry<String, PlayerCommand>> seats = new ArrayList<>();
    for (IncomingMessage message : messages) {
      try {
        RoomAssigned a = RoomAssigned.parseFrom(message.value());
        PlayerCommand join =
            new PlayerCommand.JoinRoom(a.getMatchId(), a.getChannel(), a.getRoom());
        a.getPlayerIdsList().forEach(player -> seats.add(Map.entry(player, join)));
      } catch (InvalidProtocolBufferException e) {
        return Mono.error(new Unprocessable("not a RoomAssigned", e));
      }
    }
    return applyToExisting(seats);
  }

  /**
   * Runs each command on its player, skipping players without game state (one query for all) and
   * commands the player's rules refuse; any other failure fails the whole batch.
   */
  private Mono<Void> applyToExisting(List<Map.Entry<String, PlayerCommand>> commands) {
    return players
        .existing(commands.stream().map(Map.Entry::getKey).toList())
        .flatMapMany(
            known ->
                Flux.fromIterable(commands)
                    .filter(c -> known.contains(c.getKey()))
                    .flatMap(
                        c ->
                            players
                                .handle(c.getKey(), c.getValue(), clock.instant())
                                .onErrorResume(
                                    PlayerRejected.class,
                                    e -> {
                                      log.info(
                                          "{} for {} refused: {}",
                                          c.getValue().getClass().getSimpleName(),
                                          c.getKey(),
                                          e.getMessage());
                                      return Mono.empty();
                                    }),
                        SEATING_CONCURRENCY))
        .then();
  }
}
