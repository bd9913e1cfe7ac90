package dev.citadel.gamestate.accounts;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerRejected;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import dev.citadel.protocol.member.v1.AccountRegistered;
import java.time.Instant;
import java.util.List;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Creates a player's game state for every registered account ({@code member.events}). Idempotent: a
 * redelivered registration finds the player already there and is done.
 */
public final class AccountRegistrations {
  static final String GROUP = "game-state.accounts";
  private static final String REGISTERED = AccountRegistered.getDescriptor().getFullName();

  private final MessageConsumer consumer;
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final String topic;

  public AccountRegistrations(
      MessageConsumer consumer,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      String topic) {
    this.consumer = consumer;
    this.players = players;
    this.topic = topic;
  }

  public Disposable start() {
    return consumer.start(GROUP, List.of(topic), this::handle);
  }

  Mono<Void> handle(IncomingMessage message) {
    AccountRegistered registered;
    try {
      EventEnvelope envelope = EventEnvelope.parseFrom(message.value());
      if (!REGISTERED.equals(envelope.getEventType())) {
        return Mono.empty(); // other account events are not ours
      }
      registered = AccountRegistered.parseFrom(envelope.getPayload());
    } catch (InvalidProtocolBufferException e) {
      return Mono.error(new IllegalArgumentException("not an account event", e));
    }
    Instant at = Instant.ofEpochMilli(registered.getRegisteredAtEpochMs());
    return players
        .handle(
            registered.getPlayerId(),
            new PlayerCommand.CreatePlayer(registered.getNickname(), at),
            at)
        .then()
        .onErrorResume(
            e -> e instanceof PlayerRejected r && r.kind() == PlayerRejected.Kind.CONFLICT,
            e -> Mono.empty()); // already created: a redelivery
  }
}
