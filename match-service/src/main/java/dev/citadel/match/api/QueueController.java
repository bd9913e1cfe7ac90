package dev.citadel.match.api;

import dev.citadel.match.config.MatchProperties;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.lifecycle.Transitions;
import dev.citadel.match.queue.Enqueued;
import dev.citadel.match.queue.QueueClock;
import dev.citadel.match.queue.QueueStatus;
import dev.citadel.match.queue.Queues;
import dev.citadel.match.ratings.Ratings;
import dev.citadel.web.problem.ApiException;
import dev.citadel.web.security.AuthenticatedPlayer;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Joining, leaving and watching a queue. The caller is the verified token's player. game-state
 * answers the player's rating in the queue and whether they are in a game (its seats are the truth
 * for that, even after Redis lost its data); the queue scripts decide the rest, in Redis, where the
 * player's place in the queues is kept. member-service's presence is not asked: it is a copy of
 * these decisions, behind them by the relay's lag.
 */
@RestController
public class QueueController {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(QueueController.class);

  /** Join body. */
  public record JoinRequest(String queue) {}

  private final Queues queues;
  private final Transitions transitions;
  private final Ratings ratings;
  private final MatchProperties props;
  private final QueueClock clock;

  public QueueController(
      Queues queues,
      Transitions transitions,
      Ratings ratings,
      MatchProperties props,
      QueueClock clock) {
    this.queues = queues;
    this.transitions = transitions;
    this.ratings = ratings;
    this.props = props;
    this.clock = clock;
  }

  @PostMapping("/api/match/queue")
  public Mono<QueueStatus> join(@RequestBody JoinRequest body, AuthenticatedPlayer caller) {
    String player = caller.id();
    String queue = requireQueue(body == null ? null : body.queue());
    return ratings
        .of(player, queue)
        .flatMap(
            rating -> {
              if (rating.inGame()) {
                return Mono.error(
                    new ApiException(
                        HttpStatus.CONFLICT, "player is in a game (" + rating.inMatch() + ")"));
              }
              Ticket ticket =
                  new Ticket(
                      player,
                      rating.rating(),
                      clock.millis(),
                      rating.nicknameOr(caller.nickname()));
              return queues
                  .enqueue(queue, List.of(ticket), clock.millis())
                  .flatMap(
                      statuses ->
                          seatQueue(queue, statuses.get(0))
                              .map(
                                  seatQueue ->
                                      leftOver(seatQueue, player)
                                          .flatMap(
                                              freed ->
                                                  freed
                                                      ? queues.enqueue(
                                                          queue, List.of(ticket), clock.millis())
                                                      : Mono.just(statuses)))
                              .orElse(Mono.just(statuses)));
            })
        .flatMap(statuses -> answer(queue, player, statuses.get(0)))
        // A timeout is a 503: the join may have landed, and asked again it answers where the
        // player stands.
        .timeout(props.match().requestDeadline());
  }

  /**
   * Where a refused player may hold a seat whose end was lost: in this queue (IN_GAME), or in
   * another (ELSEWHERE: seated there, or waiting or matched there, which {@link #leftOver} leaves
   * alone).
   */
  private static java.util.Optional<String> seatQueue(String queue, Enqueued refused) {
    return switch (refused.outcome()) {
      case IN_GAME -> java.util.Optional.of(queue);
      case ELSEWHERE -> java.util.Optional.of(refused.otherQueue());
      default -> java.util.Optional.empty();
    };
  }

  /**
   * A seat game-state does not know of (the player is in no game there) whose match game-state says
   * is over, or never was placed: its end was lost (Redis lost the write that took the seats back,
   * a failover, a restart) and nothing would ever send it again, so the player would be refused as
   * "in a game" for good. The seat goes as an end would take it. A match still in its room (the
   * seat landed in Redis before in game-state) keeps it. Whether it went.
   */
  private Mono<Boolean> leftOver(String queue, String player) {
    return queues
        .seatedIn(queue, player)
        .flatMap(
            seat ->
                seat.isEmpty()
                    ? Mono.just(false)
                    : ratings
                        .matchState(seat.get())
                        .flatMap(
                            state -> {
                              if (state.equals("IN_ROOM")) {
                                return Mono.just(false);
                              }
                              return queues
                                  .endMatch(queue, seat.get(), List.of(player))
                                  .flatMap(
                                      left ->
                                          left.isEmpty()
                                              ? Mono.just(false)
                                              : transitions
                                                  .ended(left, seat.get())
                                                  .thenReturn(true));
                            })
                        // Not known now (no game-state instance can say): a 503, to be asked
                        // again, not a 409 a client takes as "in a game". Refused by game-state
                        // (this service not allowed to ask): refused as in a game, as before.
                        .onErrorResume(
                            e -> !Ratings.forNow(e),
                            e -> {
                              log.info(
                                  "{}'s seat in {} not checked: {}",
                                  player,
                                  seat.get(),
                                  e.toString());
                              return Mono.just(false);
                            }));
  }

  private Mono<QueueStatus> answer(String queue, String player, Enqueued enqueued) {
    return switch (enqueued.outcome()) {
      case OK -> transitions.queued(List.of(player)).then(queues.status(queue, player));
      // A repeat of a join that landed (its reply was lost and the client tried again, or Lettuce
      // sent the script again after a reconnect): answered with where the player stands now.
      case QUEUED, MATCHED -> queues.status(queue, player);
      case IN_GAME -> Mono.error(new ApiException(HttpStatus.CONFLICT, "player is in a game"));
      case ELSEWHERE ->
          Mono.error(
              new ApiException(
                  HttpStatus.CONFLICT,
                  "already in queue " + enqueued.otherQueue() + "; one queue at a time"));
    };
  }

  @GetMapping("/api/match/status")
  public Mono<QueueStatus> status(
      @RequestParam(defaultValue = "ranked") String queue, AuthenticatedPlayer caller) {
    return queues.status(requireQueue(queue), caller.id());
  }

  @DeleteMapping("/api/match/queue")
  public Mono<Map<String, String>> leave(
      @RequestParam(defaultValue = "ranked") String queue, AuthenticatedPlayer caller) {
    String player = caller.id();
    return queues
        .cancel(requireQueue(queue), player)
        .flatMap(
            result ->
                switch (result) {
                  case CANCELLED ->
                      transitions.left(List.of(player)).thenReturn(Map.of("status", "CANCELLED"));
                  case MATCHED ->
                      Mono.error(
                          new ApiException(
                              HttpStatus.CONFLICT,
                              "already matched: the match can no longer be left"));
                  case IN_GAME ->
                      Mono.error(new ApiException(HttpStatus.CONFLICT, "player is in a game"));
                  case NOT_QUEUED ->
                      Mono.error(new ApiException(HttpStatus.NOT_FOUND, "not queued in " + queue));
                })
        .timeout(props.match().requestDeadline());
  }

  String requireQueue(String queue) {
    if (queue == null || !props.match().queues().contains(queue)) {
      throw new ApiException(
          HttpStatus.BAD_REQUEST,
          "unknown queue '" + queue + "'; queues: " + props.match().queues());
    }
    return queue;
  }
}
