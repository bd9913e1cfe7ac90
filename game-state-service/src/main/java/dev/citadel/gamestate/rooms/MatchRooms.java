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
import dev.citadel.protocol.match.v1.MatchFound;
import dev.citadel.protocol.match.v1.MatchRejected;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.protocol.match.v1.RoomAssigned;
import java.time.Clock;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Consumes {@code match.found}: places the match in a room (durable, idempotent by match id),
 * answers {@code match.room-assigned} or {@code match.rejected}, and only then lets the offset be
 * committed. The players' own state records the room right after the answer, before the next
 * message (best effort per player: the placement is the truth and can be replayed).
 */
public final class MatchRooms {
  private static final Logger log = LoggerFactory.getLogger(MatchRooms.class);
  static final String GROUP = "game-state.rooms";

  private final RoomAllocator rooms;
  private final MessagePublisher publisher;
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Clock clock;
  private final String foundTopic;
  private final String assignedTopic;
  private final String rejectedTopic;

  public MatchRooms(
      RoomAllocator rooms,
      MessagePublisher publisher,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      Clock clock,
      String foundTopic,
      String assignedTopic,
      String rejectedTopic) {
    this.rooms = rooms;
    this.publisher = publisher;
    this.players = players;
    this.clock = clock;
    this.foundTopic = foundTopic;
    this.assignedTopic = assignedTopic;
    this.rejectedTopic = rejectedTopic;
  }

  public Disposable start(MessageConsumer consumer) {
    return consumer.start(GROUP, List.of(foundTopic), this::handle);
  }

  Mono<Void> handle(IncomingMessage message) {
    MatchFound found;
    try {
      found = MatchFound.parseFrom(message.value());
    } catch (InvalidProtocolBufferException e) {
      return Mono.error(new IllegalArgumentException("not a MatchFound", e));
    }
    List<String> ids = found.getPlayersList().stream().map(MatchedPlayer::getPlayerId).toList();
    return rooms
        .place(found.getMatchId(), ids, clock.instant())
        .flatMap(
            placed -> {
              if (placed.isEmpty()) {
                return answer(
                    found.getMatchId(),
                    MatchRejected.newBuilder()
                        .setMatchId(found.getMatchId())
                        .setQueue(found.getQueue())
                        .setReason("no free room")
                        .build()
                        .toByteArray(),
                    rejectedTopic);
              }
              Placement p = placed.get();
              // Answer first (match-service is waiting), then seat the players before the next
              // message: the consumer is back-pressured, so seating never piles up unbounded.
              return answer(
                      p.matchId(),
                      RoomAssigned.newBuilder()
                          .setMatchId(p.matchId())
                          .setQueue(found.getQueue())
                          .setChannel(p.channel())
                          .setRoom(p.room())
                          .build()
                          .toByteArray(),
                      assignedTopic)
                  .then(seat(p));
            });
  }

  private Mono<Void> answer(String matchId, byte[] value, String topic) {
    return publisher.publish(new OutgoingMessage(topic, matchId, value)).then();
  }

  /** Records the seat in each player's state; a player without game state is skipped. */
  private Mono<Void> seat(Placement p) {
    return Flux.fromIterable(p.players())
        .flatMap(
            player ->
                players
                    .handle(
                        player,
                        new PlayerCommand.JoinRoom(p.matchId(), p.channel(), p.room()),
                        clock.instant())
                    .onErrorResume(e -> Mono.empty()),
            10)
        .onErrorResume(
            e -> {
              log.warn("seating the players of {} failed", p.matchId(), e);
              return Mono.empty();
            })
        .then();
  }
}
