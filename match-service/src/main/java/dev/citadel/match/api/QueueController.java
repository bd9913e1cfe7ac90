package dev.citadel.match.api;

import dev.citadel.match.config.MatchProperties;
import dev.citadel.match.lifecycle.Transitions;
import dev.citadel.match.matcher.Ticket;
import dev.citadel.match.queue.QueueStatus;
import dev.citadel.match.queue.Queues;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientResponseException;
import reactor.core.publisher.Mono;

/** Joining, leaving and watching a queue. The caller's id comes from the gateway's header. */
@RestController
public class QueueController {
  public static final String PLAYER_HEADER = "X-Player-Id";

  /** Join body. */
  public record JoinRequest(String queue) {}

  /** Bulk body (load tests): players with their Elo. */
  public record BulkRequest(String queue, List<BulkPlayer> players) {}

  public record BulkPlayer(String playerId, String nickname, int elo) {}

  private record Presence(String playerId, String status, boolean canQueue) {}

  private final Queues queues;
  private final Transitions transitions;
  private final WebClient members;
  private final MatchProperties props;
  private final Clock clock;

  public QueueController(
      Queues queues,
      Transitions transitions,
      WebClient memberClient,
      MatchProperties props,
      Clock clock) {
    this.queues = queues;
    this.transitions = transitions;
    this.members = memberClient;
    this.props = props;
    this.clock = clock;
  }

  @PostMapping("/api/match/queue")
  public Mono<QueueStatus> join(
      @RequestBody JoinRequest body,
      @RequestHeader(name = PLAYER_HEADER, required = false) String caller) {
    String player = requirePlayer(caller);
    String queue = requireQueue(body == null ? null : body.queue());
    return members
        .get()
        .uri("/internal/members/{id}/presence", player)
        .retrieve()
        .bodyToMono(Presence.class)
        .onErrorMap(
            WebClientResponseException.NotFound.class,
            e -> new ApiException(HttpStatus.NOT_FOUND, "no player " + player))
        .flatMap(
            presence -> {
              if (!presence.canQueue()) {
                return Mono.error(
                    new ApiException(
                        HttpStatus.CONFLICT,
                        "player is " + presence.status() + ", not in the lobby"));
              }
              Ticket ticket = new Ticket(player, props.match().defaultElo(), clock.millis(), "");
              return queues.enqueue(queue, List.of(ticket), clock.millis());
            })
        .flatMap(statuses -> answer(queue, player, statuses.get(0)));
  }

  private Mono<QueueStatus> answer(String queue, String player, String status) {
    return switch (status) {
      case "OK" -> transitions.queued(List.of(player)).then(queues.status(queue, player));
      case "QUEUED" ->
          Mono.error(new ApiException(HttpStatus.CONFLICT, "already queued in " + queue));
      case "MATCHED" ->
          Mono.error(new ApiException(HttpStatus.CONFLICT, "already matched, waiting for a room"));
      default -> Mono.error(new ApiException(HttpStatus.CONFLICT, "player is in a game"));
    };
  }

  @GetMapping("/api/match/status")
  public Mono<QueueStatus> status(
      @RequestParam(defaultValue = "ranked") String queue,
      @RequestHeader(name = PLAYER_HEADER, required = false) String caller) {
    return queues.status(requireQueue(queue), requirePlayer(caller));
  }

  @DeleteMapping("/api/match/queue")
  public Mono<Map<String, String>> leave(
      @RequestParam(defaultValue = "ranked") String queue,
      @RequestHeader(name = PLAYER_HEADER, required = false) String caller) {
    String player = requirePlayer(caller);
    return queues
        .cancel(requireQueue(queue), player)
        .flatMap(
            result ->
                switch (result) {
                  case "CANCELLED" ->
                      transitions.left(List.of(player)).thenReturn(Map.of("status", "CANCELLED"));
                  case "MATCHED" ->
                      Mono.error(
                          new ApiException(
                              HttpStatus.CONFLICT,
                              "already matched: the match can no longer be left"));
                  case "IN_GAME" ->
                      Mono.error(new ApiException(HttpStatus.CONFLICT, "player is in a game"));
                  default ->
                      Mono.error(new ApiException(HttpStatus.NOT_FOUND, "not queued in " + queue));
                });
  }

  /** Load tests only (profile loadtest): queue many players at once, no auth, no member check. */
  @PostMapping("/api/match/bulk")
  public Mono<Map<String, Object>> bulk(@RequestBody BulkRequest body) {
    if (!props.match().bulkEnabled()) {
      return Mono.error(
          new ApiException(
              HttpStatus.FORBIDDEN, "bulk enqueue is only enabled in the loadtest profile"));
    }
    String queue = requireQueue(body.queue());
    long now = clock.millis();
    List<Ticket> tickets = new ArrayList<>();
    for (BulkPlayer p : body.players()) {
      tickets.add(new Ticket(p.playerId(), p.elo(), now, p.nickname() == null ? "" : p.nickname()));
    }
    return queues
        .enqueue(queue, tickets, now)
        .map(
            s ->
                Map.of(
                    "queued",
                    s.stream().filter("OK"::equals).count(),
                    "refused",
                    s.stream().filter(x -> !x.equals("OK")).count()));
  }

  private String requireQueue(String queue) {
    if (queue == null || !props.match().queues().contains(queue)) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST,
          "unknown queue '" + queue + "'; queues: " + props.match().queues());
    }
    return queue;
  }

  private static String requirePlayer(String caller) {
    if (caller == null || caller.isBlank()) {
      throw new ApiException(HttpStatus.UNAUTHORIZED, "missing " + PLAYER_HEADER);
    }
    return caller;
  }
}
