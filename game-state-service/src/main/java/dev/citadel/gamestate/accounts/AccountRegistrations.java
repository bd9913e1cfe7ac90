package dev.citadel.gamestate.accounts;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerRejected;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.messaging.Unprocessable;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import dev.citadel.protocol.member.v1.AccountRegistered;
import dev.citadel.protocol.member.v1.NicknameChanged;
import java.time.Instant;
import java.util.List;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Follows the accounts ({@code member.events}): creates a player's game state for every registered
 * account and renames it when the account is renamed. Idempotent: a redelivered registration finds
 * the player already there, a rename older than the one applied changes nothing (no event).
 */
public final class AccountRegistrations {
  static final String GROUP = "game-state.accounts";
  private static final String REGISTERED = AccountRegistered.getDescriptor().getFullName();
  private static final String RENAMED = NicknameChanged.getDescriptor().getFullName();

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
    EventEnvelope envelope;
    try {
      envelope = EventEnvelope.parseFrom(message.value());
      if (RENAMED.equals(envelope.getEventType())) {
        NicknameChanged renamed = NicknameChanged.parseFrom(envelope.getPayload());
        // Ordered and keyed by the account event's place in its stream: the outbox sends at least
        // once, and a copy of an older rename that arrives after a newer one (a publisher that lost
        // its lease mid-send, a replay of dead letters) changes nothing, not the old nickname back.
        return players
            .handle(
                renamed.getPlayerId(),
                new PlayerCommand.SetNickname(renamed.getNickname(), envelope.getSeq()),
                Instant.ofEpochMilli(renamed.getChangedAtEpochMs()),
                IdempotencyKey.of(
                    "account-event:" + envelope.getSeq(), renamed.getNickname(), envelope.getSeq()))
            .then()
            .onErrorMap(AccountRegistrations::refusedForGood, AccountRegistrations::deadLetter);
      }
      if (!REGISTERED.equals(envelope.getEventType())) {
        return Mono.empty(); // other account events are not ours
      }
      AccountRegistered registered = AccountRegistered.parseFrom(envelope.getPayload());
      Instant at = Instant.ofEpochMilli(registered.getRegisteredAtEpochMs());
      return players
          .handle(
              registered.getPlayerId(),
              new PlayerCommand.CreatePlayer(registered.getNickname(), at),
              at)
          .then()
          .onErrorResume(
              e -> e instanceof PlayerRejected r && r.kind() == PlayerRejected.Kind.CONFLICT,
              e -> Mono.empty()) // already created: a redelivery
          .onErrorMap(AccountRegistrations::refusedForGood, AccountRegistrations::deadLetter);
    } catch (InvalidProtocolBufferException e) {
      return Mono.error(new Unprocessable("not an account event", e));
    }
  }

  /**
   * Refused by the player's rules in a way no retry changes (input they reject; a rename of a
   * player game-state never created, its registration dead-lettered): retried in order, it would
   * hold up every later account event of its partition for ever. Dead-lettered instead, to be
   * replayed.
   */
  static boolean refusedForGood(Throwable e) {
    return e instanceof PlayerRejected r
        && (r.kind() == PlayerRejected.Kind.INVALID || r.kind() == PlayerRejected.Kind.NOT_FOUND);
  }

  private static Throwable deadLetter(Throwable e) {
    return new Unprocessable("refused by the player's rules: " + e.getMessage(), e);
  }
}
