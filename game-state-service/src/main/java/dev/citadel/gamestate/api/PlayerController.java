package dev.citadel.gamestate.api;

import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.CommandResult;
import dev.citadel.gamestate.http.CommandParser;
import dev.citadel.gamestate.http.CommandResponse;
import dev.citadel.gamestate.http.PlayerRequests;
import dev.citadel.gamestate.http.PlayerView;
import dev.citadel.gamestate.leaderboard.Leaderboard;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.shop.Catalogue;
import dev.citadel.web.problem.ApiException;
import dev.citadel.web.security.AuthenticatedPlayer;
import java.time.Clock;
import java.util.Map;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Player state over HTTP. The caller is the verified token's player; a player may only read and
 * change themselves, and only with the commands players may send ({@link
 * CommandParser#PLAYER_COMMANDS}).
 */
@RestController
@RequestMapping("/api/game")
public class PlayerController {

  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Leaderboard leaderboard;
  private final Catalogue catalogue;
  private final Clock clock;

  public PlayerController(
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      Leaderboard leaderboard,
      Catalogue catalogue,
      Clock clock) {
    this.players = players;
    this.leaderboard = leaderboard;
    this.catalogue = catalogue;
    this.clock = clock;
  }

  @GetMapping("/players/{id}")
  public Mono<PlayerView> player(@PathVariable String id, AuthenticatedPlayer caller) {
    PlayerRequests.authorize(caller, id);
    return players
        .get(id)
        .map(
            r -> {
              if (!r.state().exists()) {
                throw new ApiException(HttpStatus.NOT_FOUND, "no player " + id);
              }
              return PlayerView.of(r.state(), r.version());
            });
  }

  /**
   * A player's intent. With an {@value PlayerRequests#IDEMPOTENCY_KEY} header the command runs at
   * most once: the same key again answers {@code "repeated": true} and changes nothing, also when
   * it could not be decided any more (a purchase whose item has left the catalogue since the first
   * try: the key is looked up before the 404).
   */
  @PostMapping("/players/{id}/commands/{name}")
  public Mono<CommandResponse> command(
      @PathVariable String id,
      @PathVariable String name,
      @RequestBody(required = false) Map<String, Object> body,
      @RequestHeader(name = PlayerRequests.IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    PlayerRequests.authorize(caller, id);
    PlayerCommand command;
    try {
      command = CommandParser.playerCommand(name, body, catalogue);
    } catch (ApiException refused) {
      if (key == null
          || refused.status() != HttpStatus.NOT_FOUND
          || !CommandParser.PLAYER_COMMANDS.contains(name)) {
        throw refused;
      }
      return players
          .stored(id, PlayerRequests.idempotencyKey(key, id, name, body))
          .map(PlayerRequests::response)
          .switchIfEmpty(Mono.error(refused));
    }
    Mono<CommandResult<PlayerState, PlayerEvent>> result =
        key == null
            ? players.handle(id, command, clock.instant())
            : players.handle(
                id, command, clock.instant(), PlayerRequests.idempotencyKey(key, id, name, body));
    return result.map(PlayerRequests::response);
  }

  @GetMapping("/leaderboard")
  public Flux<Leaderboard.Entry> leaderboard(@RequestParam(defaultValue = "10") int limit) {
    if (limit < 1 || limit > 100) {
      throw ApiException.badRequest("limit must be between 1 and 100");
    }
    return leaderboard.top(limit);
  }

  /** A queue's players by rating. */
  @GetMapping("/leaderboard/ratings/{queue}")
  public Flux<Leaderboard.RatingEntry> ratings(
      @PathVariable String queue, @RequestParam(defaultValue = "10") int limit) {
    if (limit < 1 || limit > 100) {
      throw ApiException.badRequest("limit must be between 1 and 100");
    }
    if (!dev.citadel.gamestate.player.Player.QUEUE.matcher(queue).matches()) {
      throw ApiException.badRequest("queue must be 1-20 of a-z, 0-9 and _");
    }
    return leaderboard.topRated(queue, limit);
  }
}
