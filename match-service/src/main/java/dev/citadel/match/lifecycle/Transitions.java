package dev.citadel.match.lifecycle;

import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.notify.PlayerNotifier;
import dev.citadel.protocol.member.v1.PresenceChanged;
import dev.citadel.protocol.member.v1.PresenceStatus;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Tells the rest of the system about a player's matchmaking transitions: presence on Kafka ({@code
 * player.presence}, for member-service) and a push notification. The presence sequence is the clock
 * in microseconds, strictly increasing within this process.
 */
public final class Transitions {
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

  public Mono<Void> inGame(List<String> players, String matchId, int channel, int room) {
    String data =
        "{\"matchId\":" + quote(matchId) + ",\"channel\":" + channel + ",\"room\":" + room + "}";
    return publish(players, PresenceStatus.IN_GAME, matchId, "match.room-assigned", data);
  }

  private Mono<Void> publish(
      List<String> players, PresenceStatus status, String matchId, String type, String data) {
    long now = clock.millis();
    return Flux.fromIterable(players)
        .flatMap(
            player -> {
              PresenceChanged change =
                  PresenceChanged.newBuilder()
                      .setPlayerId(player)
                      .setStatus(status)
                      .setMatchId(matchId)
                      .setSequence(nextSequence(now))
                      .setOccurredAtEpochMs(now)
                      .build();
              return publisher
                  .publish(new OutgoingMessage(presenceTopic, player, change.toByteArray()))
                  .then(notifier.notify(player, type, data).onErrorResume(e -> Mono.empty()))
                  .then();
            })
        .then();
  }

  private long nextSequence(long nowMs) {
    return lastSequence.updateAndGet(last -> Math.max(last + 1, nowMs * 1000));
  }

  private static String quote(String s) {
    return "\"" + s.replace("\"", "") + "\"";
  }
}
