package dev.citadel.match.bulk;

import dev.citadel.match.config.MatchProperties;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.queue.Enqueued;
import dev.citadel.match.queue.QueueClock;
import dev.citadel.match.queue.Queues;
import dev.citadel.web.problem.ApiException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Profile;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Load tests only: many players queued at once with the Elo the caller gives, without asking
 * member-service. The route exists only in the {@code loadtest} profile (no property can switch it
 * on elsewhere), is internal (never routed by the gateway) and needs a service token with {@code
 * match.bulk}.
 */
@RestController
@Profile("loadtest")
public class BulkController {
  public static final int MAX_PLAYERS = 5_000;

  /** Players with their Elo, for one queue. */
  public record BulkRequest(String queue, List<BulkPlayer> players) {}

  public record BulkPlayer(String playerId, String nickname, int elo) {}

  private final Queues queues;
  private final MatchProperties props;
  private final QueueClock clock;

  public BulkController(Queues queues, MatchProperties props, QueueClock clock) {
    this.queues = queues;
    this.props = props;
    this.clock = clock;
  }

  @PostMapping("/internal/match/bulk")
  public Mono<Map<String, Object>> bulk(@RequestBody BulkRequest body) {
    if (body == null || body.queue() == null || !props.match().queues().contains(body.queue())) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "unknown queue; queues: " + props.match().queues());
    }
    if (body.players() == null || body.players().size() > MAX_PLAYERS) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST, "'players' holds 0-" + MAX_PLAYERS + " players");
    }
    long now = clock.millis();
    List<Ticket> tickets = new ArrayList<>();
    for (BulkPlayer p : body.players()) {
      if (p == null || p.playerId() == null || p.playerId().isBlank()) {
        throw new ApiException(HttpStatus.BAD_REQUEST, "every player needs a 'playerId'");
      }
      // The queue stores a match's players as p|elo|at|nick;... (see PendingMatch).
      if (!Queues.storable(p.playerId())
          || (p.nickname() != null && !Queues.storable(p.nickname()))) {
        throw new ApiException(
            HttpStatus.BAD_REQUEST,
            "'playerId' and 'nickname' may not hold ';', '|' or '#': " + p.playerId());
      }
      tickets.add(new Ticket(p.playerId(), p.elo(), now, p.nickname() == null ? "" : p.nickname()));
    }
    return queues
        .enqueue(body.queue(), tickets, now, false)
        .map(
            s ->
                Map.of(
                    "queued",
                    s.stream().filter(Enqueued::queued).count(),
                    "refused",
                    s.stream().filter(x -> !x.queued()).count()));
  }
}
