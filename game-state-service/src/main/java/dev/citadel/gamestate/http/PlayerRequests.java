package dev.citadel.gamestate.http;

import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.gamestate.aggregate.CommandResult;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.web.problem.ApiException;
import dev.citadel.web.security.AuthenticatedPlayer;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;

/**
 * What every player route checks and answers the same way: whose player it is, the shape of ids and
 * idempotency keys, and a command's reply. The controllers of every feature use it.
 */
public final class PlayerRequests {
  public static final String IDEMPOTENCY_KEY = "Idempotency-Key";
  private static final Pattern PLAYER_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  private static final Pattern KEY = Pattern.compile("[\\x21-\\x7e]{1,128}");

  private PlayerRequests() {}

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

  /** A result's name in the API. */
  public static String resultName(dev.citadel.protocol.match.v1.Result r) {
    return switch (r) {
      case RESULT_TEAM_0_WON -> "TEAM_0_WON";
      case RESULT_TEAM_1_WON -> "TEAM_1_WON";
      case RESULT_DRAW -> "DRAW";
      default -> "NONE";
    };
  }
}
