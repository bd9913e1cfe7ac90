package dev.citadel.gamestate.results;

import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.protocol.match.v1.Result;
import dev.citadel.web.problem.ApiException;
import java.util.Map;
import java.util.function.Function;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * A game server posts how its game ended ({@code match.results}); match-service reads the rating a
 * player queues with ({@code ratings.read}). Internal: the gateway never routes {@code
 * /internal/**}.
 */
@RestController
public class ResultController {

  /**
   * The winning team (0 or 1), or {@code draw: true}; exactly one of the two. Optionally each
   * player's score (recorded and shown with the match, not rated); a player not in the match is
   * 400.
   */
  public record ResultRequest(Integer winningTeam, Boolean draw, Map<String, Long> scores) {}

  static final long MAX_SCORE = 1_000_000_000L;

  /** The recorded result; {@code repeated} if it was recorded before this request. */
  public record ResultView(String matchId, String queue, String result, boolean repeated) {}

  /**
   * A player's rating in a queue ({@code games} 0: the queue's initial rating), and the match the
   * player is seated in, if any (a player in a game may not queue).
   */
  /**
   * A player's rating in a queue, the game they are in (null: none) and their nickname now (a
   * token's may be an hour old: renamed since, and that name taken by someone else).
   */
  public record RatingView(
      String playerId, String queue, int rating, int games, String inMatch, String nickname) {}

  private final MatchResults results;
  private final dev.citadel.gamestate.rooms.MatchRooms rooms;
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Function<String, QueueRules> rules;

  public ResultController(
      MatchResults results,
      dev.citadel.gamestate.rooms.MatchRooms rooms,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      Function<String, QueueRules> rules) {
    this.results = results;
    this.rooms = rooms;
    this.players = players;
    this.rules = rules;
  }

  /**
   * Records the result once: ratings and rewards for all players in one transaction, then the game
   * ends (room freed, players back in the lobby). The same result again answers the same; another
   * result, or a result for a game that ended without one, is 409.
   */
  @PostMapping("/internal/matches/{matchId}/result")
  public Mono<ResultView> post(@PathVariable String matchId, @RequestBody ResultRequest body) {
    requireMatchId(matchId);
    Result result = parse(body);
    Map<String, Long> scores = scores(body);
    return results
        .record(matchId, result, scores)
        .map(
            r ->
                new ResultView(
                    r.matchId(),
                    r.queue(),
                    dev.citadel.gamestate.http.PlayerRequests.resultName(r.result()),
                    r.repeated()));
  }

  @GetMapping("/internal/players/{playerId}/ratings/{queue}")
  public Mono<RatingView> rating(@PathVariable String playerId, @PathVariable String queue) {
    if (!dev.citadel.gamestate.player.Player.QUEUE.matcher(queue).matches()) {
      throw ApiException.badRequest("queue must be 1-20 of a-z, 0-9 and _");
    }
    int initial = rules.apply(queue).initialRating();
    return players
        .get(playerId)
        .flatMap(
            r -> {
              PlayerState.Rating rating = r.state().ratingIn(queue, initial);
              // A seat in a game that is over (its players leave it a moment after the end) is
              // no game: the player is free to queue.
              Mono<String> inMatch =
                  Mono.justOrEmpty(r.state().room().map(PlayerState.Seat::matchId))
                      .filterWhen(m -> rooms.status(m).map(s -> s.isPresent() && !s.get().ended()));
              String nickname = r.state().nickname();
              return inMatch
                  .map(
                      m ->
                          new RatingView(
                              playerId, queue, rating.rating(), rating.games(), m, nickname))
                  .defaultIfEmpty(
                      new RatingView(
                          playerId, queue, rating.rating(), rating.games(), null, nickname));
            });
  }

  static Result parse(ResultRequest body) {
    if (body == null) {
      throw ApiException.badRequest("a JSON body with 'winningTeam' or 'draw' is required");
    }
    boolean draw = Boolean.TRUE.equals(body.draw());
    if (draw == (body.winningTeam() != null)) {
      throw ApiException.badRequest("give exactly one of 'winningTeam' (0 or 1) and 'draw': true");
    }
    if (draw) {
      return Result.RESULT_DRAW;
    }
    return switch (body.winningTeam()) {
      case 0 -> Result.RESULT_TEAM_0_WON;
      case 1 -> Result.RESULT_TEAM_1_WON;
      default -> throw ApiException.badRequest("'winningTeam' must be 0 or 1");
    };
  }

  static Map<String, Long> scores(ResultRequest body) {
    if (body.scores() == null) {
      return Map.of();
    }
    if (body.scores().size() > 100) {
      throw ApiException.badRequest("at most 100 'scores'");
    }
    body.scores()
        .forEach(
            (player, score) -> {
              if (score == null || score < 0 || score > MAX_SCORE) {
                throw ApiException.badRequest(
                    "the score of " + player + " must be between 0 and " + MAX_SCORE);
              }
            });
    return Map.copyOf(body.scores());
  }

  private static void requireMatchId(String matchId) {
    if (!dev.citadel.gamestate.player.Player.MATCH_ID.matcher(matchId).matches()) {
      throw ApiException.badRequest("match id must be 1-64 letters, digits, '_' or '-'");
    }
  }
}
