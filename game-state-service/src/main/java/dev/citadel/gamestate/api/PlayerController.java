package dev.citadel.gamestate.api;

import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.CommandResult;
import dev.citadel.gamestate.http.CommandParser;
import dev.citadel.gamestate.leaderboard.Leaderboard;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.shop.Catalogue;
import dev.citadel.web.problem.ApiException;
import dev.citadel.web.security.AuthenticatedPlayer;
import java.time.Clock;
import java.util.Map;
import java.util.TreeMap;
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
 * Player state over HTTP. The caller is the verified token's player; a player may only read and
 * change themselves, and only with the commands players may send ({@link
 * CommandParser#PLAYER_COMMANDS}).
 */
@RestController
@RequestMapping("/api/game")
public class PlayerController {
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  private static final Pattern PLAYER_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,128}");

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

  /**
   * A player's intent. With an {@value #IDEMPOTENCY_KEY} header the command runs at most once: the
   * same key again answers {@code "repeated": true} and changes nothing.
   */
  @PostMapping("/players/{id}/commands/{name}")
  public Mono<CommandResponse> command(
      @PathVariable String id,
      @PathVariable String name,
      @RequestBody(required = false) Map<String, Object> body,
      @RequestHeader(name = IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    authorize(caller, id);
    PlayerCommand command = CommandParser.playerCommand(name, body, catalogue);
    Mono<CommandResult<PlayerState, PlayerEvent>> result =
        key == null
            ? players.handle(id, command, clock.instant())
            : players.handle(id, command, clock.instant(), idempotencyKey(key, id, name, body));
    return result.map(PlayerController::response);
  }

  /**
   * The stored key of a client's {@value #IDEMPOTENCY_KEY}: scoped to the player who sent it. A
   * transaction stores its key on every participant's stream, so unscoped, a gift from A with key
   * "7" would make B's own command with key "7" a 409 for days (or block A's gift forever).
   */
  public static IdempotencyKey idempotencyKey(String key, String caller, String name, Object body) {
    if (!KEY.matcher(key).matches()) {
      throw ApiException.badRequest(
          IDEMPOTENCY_KEY + " must be 1-128 printable ASCII characters without spaces");
    }
    Object canonical = body instanceof Map<?, ?> m ? new TreeMap<>(m) : body;
    return IdempotencyKey.of("client:" + caller + ":" + key, name, canonical);
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

  public static CommandResponse response(CommandResult<PlayerState, PlayerEvent> r) {
    return new CommandResponse(
        PlayerView.of(r.state(), r.version()),
        r.events().stream().map(e -> e.getClass().getSimpleName()).toList(),
        r.repeated());
  }

  /** The caller acts on themselves only. */
  public static void authorize(AuthenticatedPlayer caller, String id) {
    requirePlayerId(id);
    if (!caller.id().equals(id)) {
      throw new ApiException(HttpStatus.FORBIDDEN, "a player may only act on themselves");
    }
  }

  public static void requirePlayerId(String id) {
    if (id == null || !PLAYER_ID.matcher(id).matches()) {
      throw ApiException.badRequest("player id must be 1-64 letters, digits, '_' or '-'");
    }
  }
}
