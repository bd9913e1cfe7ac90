package dev.citadel.gamestate.api;

import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.CommandResult;
import dev.citadel.gamestate.leaderboard.Leaderboard;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import java.time.Clock;
import java.util.Map;
import java.util.regex.Pattern;
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
 * Player state over HTTP. The caller's player id comes from the {@value #PLAYER_HEADER} header (set
 * by the gateway from the verified JWT); a player may only read and change themselves.
 */
@RestController
@RequestMapping("/api/game")
public class PlayerController {
  public static final String PLAYER_HEADER = "X-Player-Id";
  private static final Pattern PLAYER_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Leaderboard leaderboard;
  private final Clock clock;

  public PlayerController(
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      Leaderboard leaderboard,
      Clock clock) {
    this.players = players;
    this.leaderboard = leaderboard;
    this.clock = clock;
  }

  @GetMapping("/players/{id}")
  public Mono<PlayerView> get(
      @PathVariable String id,
      @RequestHeader(name = PLAYER_HEADER, required = false) String caller) {
    authorize(caller, id);
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

  @PostMapping("/players/{id}/commands/{name}")
  public Mono<CommandResponse> command(
      @PathVariable String id,
      @PathVariable String name,
      @RequestBody(required = false) Map<String, Object> body,
      @RequestHeader(name = PLAYER_HEADER, required = false) String caller) {
    authorize(caller, id);
    PlayerCommand command = CommandParser.parse(name, body, clock.instant());
    return players.handle(id, command, clock.instant()).map(PlayerController::response);
  }

  @GetMapping("/leaderboard")
  public Flux<Leaderboard.Entry> leaderboard(@RequestParam(defaultValue = "10") int limit) {
    if (limit < 1 || limit > 100) {
      throw ApiException.badRequest("limit must be between 1 and 100");
    }
    return leaderboard.top(limit);
  }

  private static CommandResponse response(CommandResult<PlayerState, PlayerEvent> r) {
    return new CommandResponse(
        PlayerView.of(r.state(), r.version()),
        r.events().stream().map(e -> e.getClass().getSimpleName()).toList());
  }

  public static void authorize(String caller, String id) {
    if (!PLAYER_ID.matcher(id).matches()) {
      throw ApiException.badRequest("player id must be 1-64 letters, digits, '_' or '-'");
    }
    if (caller == null || caller.isBlank()) {
      throw new ApiException(HttpStatus.UNAUTHORIZED, "missing " + PLAYER_HEADER);
    }
    if (!caller.equals(id)) {
      throw new ApiException(HttpStatus.FORBIDDEN, "a player may only act on themselves");
    }
  }
}
