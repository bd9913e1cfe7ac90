package dev.citadel.match.lifecycle;

import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.notify.PlayerNotifier;
import dev.citadel.protocol.member.v1.PresenceChanged;
import dev.citadel.protocol.member.v1.PresenceStatus;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Tells the rest of the system about a player's matchmaking transitions: presence on Kafka ({@code
 * player.presence}, for member-service) and a push notification. The presence sequence is the clock
 * in microseconds, strictly increasing within this process.
 */
public final class Transitions {
  private static final Logger log = LoggerFactory.getLogger(Transitions.class);
  private final MessagePublisher publisher;
  private final PlayerNotifier notifier;
  private final Clock clock;
  private final String presenceTopic;
  private final AtomicLong lastSequence = new AtomicLong();

  public Transitions(
      MessagePublisher publisher, PlayerNotifier notifier, Clock clock, String presenceTopic) {
    this.publisher = publisher;
    this.notifier = notifier;
    this.clock = clock;
    this.presenceTopic = presenceTopic;
  }

  public Mono<Void> queued(List<String> players) {
    return publish(players, PresenceStatus.QUEUED, "", "match.queued", "null");
  }

  public Mono<Void> requeued(List<String> players, String matchId) {
    return publish(players, PresenceStatus.QUEUED, "", "match.requeued", quote(matchId));
  }

  public Mono<Void> left(List<String> players) {
    return publish(players, PresenceStatus.LOBBY, "", "match.left", "null");
  }

  /** The game is over: the players are back in the lobby. */
  public Mono<Void> ended(List<String> players, String matchId) {
    return publish(players, PresenceStatus.LOBBY, "", "match.ended", quote(matchId));
  }

  /** A match whose room is confirmed. */
  public record Seated(List<String> players, String matchId, int channel, int room) {}

  /** Many matches at once, each player told of their own match's room. */
  public Mono<Void> inGame(List<Seated> matches) {
    long now = clock.millis();
    List<OutgoingMessage> presence = new ArrayList<>();
    List<PlayerNotifier.Notification> notes = new ArrayList<>();
    for (Seated m : matches) {
      String data =
          "{\"matchId\":"
              + quote(m.matchId())
              + ",\"channel\":"
              + m.channel()
              + ",\"room\":"
              + m.room()
              + "}";
      for (String player : m.players()) {
        presence.add(presence(player, PresenceStatus.IN_GAME, m.matchId(), now));
        notes.add(new PlayerNotifier.Notification(player, "match.room-assigned", data));
      }
    }
    return send(presence, notes);
  }

  private Mono<Void> publish(
      List<String> players, PresenceStatus status, String matchId, String type, String data) {
    long now = clock.millis();
    List<OutgoingMessage> presence = new ArrayList<>(players.size());
    List<PlayerNotifier.Notification> notes = new ArrayList<>(players.size());
    for (String player : players) {
      presence.add(presence(player, status, matchId, now));
      notes.add(new PlayerNotifier.Notification(player, type, data));
    }
    return send(presence, notes);
  }

  /**
   * Every presence change in one stream of sends, then every notification in a few Redis calls (see
   * {@link PlayerNotifier#notifyAll}): a player is notified only after their presence is durable.
   */
  private Mono<Void> send(List<OutgoingMessage> presence, List<PlayerNotifier.Notification> notes) {
    return publisher
        .publishAll(Flux.fromIterable(presence))
        .then(bestEffort(notifier.notifyAll(notes)))
        .then();
  }

  private OutgoingMessage presence(
      String player, PresenceStatus status, String matchId, long nowMs) {
    PresenceChanged change =
        PresenceChanged.newBuilder()
            .setPlayerId(player)
            .setStatus(status)
            .setMatchId(matchId)
            .setSequence(nextSequence(nowMs))
            .setOccurredAtEpochMs(nowMs)
            .build();
    return new OutgoingMessage(presenceTopic, player, change.toByteArray());
  }

  /** Notifications are best effort (the state is always readable): a failure is only logged. */
  private static Mono<Void> bestEffort(Mono<Long> notification) {
    return notification
        .doOnError(e -> log.warn("notification not sent: {}", e.toString()))
        .onErrorComplete()
        .then();
  }

  private long nextSequence(long nowMs) {
    return lastSequence.updateAndGet(last -> Math.max(last + 1, nowMs * 1000));
  }

  private static String quote(String s) {
    return "\"" + s.replace("\"", "") + "\"";
  }
}
