package dev.citadel.gamestate.results;

import dev.citadel.gamestate.aggregate.AfterCommit;
import dev.citadel.gamestate.aggregate.Gathered;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.notify.PlayerNotifier;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * {@code match.result} to each player whose result was committed here: the outcome, the rating
 * before and after, and the reward. After commit, at most once per commit (a commit message that
 * was lost and recovered from the journal is not announced); those committed while the last ones
 * were sent go together, in one script call.
 */
@Component
public class ResultNotifications implements AfterCommit<PlayerState, PlayerEvent> {

  private final Gathered<PlayerNotifier.Notification> sent;

  public ResultNotifications(PlayerNotifier notifier, MeterRegistry meters) {
    this.sent =
        new Gathered<PlayerNotifier.Notification>(
            "match.result", batch -> notifier.notifyAll(batch).then(), meters);
  }

  @Override
  public Mono<Void> committed(
      String id, PlayerState state, long version, List<PlayerEvent> events) {
    List<Mono<Void>> sending = new ArrayList<>();
    for (PlayerEvent e : events) {
      if (e instanceof PlayerEvent.MatchRated r) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("matchId", r.matchId());
        data.put("queue", r.queue());
        data.put("outcome", r.outcome().name());
        data.put("ratingBefore", r.before());
        data.put("ratingAfter", r.after());
        data.put("gold", r.gold());
        data.put("experience", r.experience());
        sending.add(sent.add(new PlayerNotifier.Notification(id, "match.result", data)));
      }
    }
    return Mono.whenDelayError(sending);
  }
}
