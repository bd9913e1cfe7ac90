package dev.citadel.match.lifecycle;

import dev.citadel.notify.PlayerNotifier;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Tells players about their matchmaking transitions with a push notification. Their presence is not
 * sent from here: the script that makes a change records it in the presence stream in the same step
 * ({@code PresenceRelay} moves it to Kafka), so it is never lost between Redis and Kafka and its
 * order is Redis's, not a replica's clock. A player is notified only after that.
 */
public final class Transitions {
  private static final Logger log = LoggerFactory.getLogger(Transitions.class);
  private final PlayerNotifier notifier;

  public Transitions(PlayerNotifier notifier) {
    this.notifier = notifier;
  }

  public Mono<Void> queued(List<String> players) {
    return notify(players, "match.queued", null);
  }

  public Mono<Void> requeued(List<String> players, String matchId) {
    return notify(players, "match.requeued", matchId);
  }

  public Mono<Void> left(List<String> players) {
    return notify(players, "match.left", null);
  }

  /** The game is over: the players are back in the lobby. */
  public Mono<Void> ended(List<String> players, String matchId) {
    return notify(players, "match.ended", matchId);
  }

  /** A match whose room is confirmed. */
  public record Seated(List<String> players, String matchId, int channel, int room) {}

  /** Many matches at once, each player told of their own match's room. */
  public Mono<Void> inGame(List<Seated> matches) {
    List<PlayerNotifier.Notification> notes = new ArrayList<>();
    for (Seated m : matches) {
      Room data = new Room(m.matchId(), m.channel(), m.room());
      for (String player : m.players()) {
        notes.add(new PlayerNotifier.Notification(player, "match.room-assigned", data));
      }
    }
    return bestEffort(notes);
  }

  /** {@code match.room-assigned}'s data. */
  record Room(String matchId, int channel, int room) {}

  private Mono<Void> notify(List<String> players, String type, Object data) {
    List<PlayerNotifier.Notification> notes = new ArrayList<>(players.size());
    for (String player : players) {
      notes.add(new PlayerNotifier.Notification(player, type, data));
    }
    return bestEffort(notes);
  }

  /**
   * Notifications go out in a few Redis calls (see {@link PlayerNotifier#notifyAll}) and are best
   * effort (the state is always readable): a failure is only logged.
   */
  private Mono<Void> bestEffort(List<PlayerNotifier.Notification> notes) {
    if (notes.isEmpty()) {
      return Mono.empty();
    }
    return notifier
        .notifyAll(notes)
        .doOnError(e -> log.warn("notification not sent: {}", e.toString()))
        .onErrorResume(e -> Mono.just(0L))
        .then();
  }
}
