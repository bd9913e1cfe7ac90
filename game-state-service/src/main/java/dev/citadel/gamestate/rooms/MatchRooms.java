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
import dev.citadel.protocol.match.v1.MatchFound;
import dev.citadel.protocol.match.v1.MatchRejected;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.protocol.match.v1.RoomAssigned;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
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
  static final int MAX_BATCH = 200;
  static final int SEATING_CONCURRENCY = 256;

  private final RoomAllocator rooms;
  private final MessagePublisher publisher;
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Clock clock;
  private final String foundTopic;
  private final String assignedTopic;
  private final String rejectedTopic;
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
      MeterRegistry meters) {
    this.rooms = rooms;
    this.publisher = publisher;
    this.players = players;
    this.clock = clock;
    this.foundTopic = foundTopic;
    this.assignedTopic = assignedTopic;
    this.rejectedTopic = rejectedTopic;
    this.assignedAnswers =
        Counter.builder("citadel_match_placements")
            .tag("outcome", "assigned")
            .description("match.found answered (a redelivered match is answered again)")
            .register(meters);
    this.rejectedAnswers =
        Counter.builder("citadel_match_placements").tag("outcome", "rejected").register(meters);
  }

  /** Placement (group {@value #GROUP}) and seating (group {@value #SEATING_GROUP}). */
  public Disposable start(MessageConsumer consumer) {
    return Disposables.composite(
        consumer.startBatched(GROUP, List.of(foundTopic), MAX_BATCH, this::handle),
        consumer.startBatched(SEATING_GROUP, List.of(assignedTopic), MAX_BATCH, this::seat));
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
        return Mono.error(new IllegalArgumentException("not a MatchFound", e));
      }
    }
    List<RoomAllocator.Request> requests =
        found.stream()
            .map(
                f ->
                    new RoomAllocator.Request(
                        f.getMatchId(),
                        f.getPlayersList().stream().map(MatchedPlayer::getPlayerId).toList()))
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
    List<Map.Entry<String, RoomAssigned>> seats = new ArrayList<>();
    for (IncomingMessage message : messages) {
      try {
        RoomAssigned a = RoomAssigned.parseFrom(message.value());
        a.getPlayerIdsList().forEach(player -> seats.add(Map.entry(player, a)));
      } catch (InvalidProtocolBufferException e) {
        return Mono.error(new IllegalArgumentException("not a RoomAssigned", e));
      }
    }
    return players
        .existing(seats.stream().map(Map.Entry::getKey).toList())
        .flatMapMany(
            known ->
                Flux.fromIterable(seats)
                    .filter(seat -> known.contains(seat.getKey()))
                    .flatMap(
                        seat ->
                            players
                                .handle(
                                    seat.getKey(),
                                    new PlayerCommand.JoinRoom(
                                        seat.getValue().getMatchId(),
                                        seat.getValue().getChannel(),
                                        seat.getValue().getRoom()),
                                    clock.instant())
                                .onErrorResume(
                                    PlayerRejected.class,
                                    e -> {
                                      log.info(
                                          "seat of {} refused: {}", seat.getKey(), e.getMessage());
                                      return Mono.empty();
                                    }),
                        SEATING_CONCURRENCY))
        .then();
  }
}
