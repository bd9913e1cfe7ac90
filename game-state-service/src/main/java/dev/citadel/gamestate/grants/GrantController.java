package dev.citadel.gamestate.grants;

import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.http.CommandResponse;
import dev.citadel.gamestate.http.PlayerRequests;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.web.problem.ApiException;
import java.time.Clock;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Rewards from a game server: gold, experience and items for one player, internal only (a service
 * token with {@code game.grant}). Each grant names a reward id of the caller's; the same reward id
 * again grants nothing and answers the first grant ({@code "repeated": true}), so a game server
 * that is unsure whether a grant landed simply sends it again.
 */
@RestController
public class GrantController {
  private static final Pattern REWARD_ID = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");

  /** The body: a reward id, then any of gold, experience, items; a reason for the journal. */
  public record GrantRequest(
      String rewardId, Long gold, Long experience, List<ItemGrant> items, String reason) {}

  public record ItemGrant(String itemId, Integer quantity) {}

  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final Clock clock;

  public GrantController(
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players, Clock clock) {
    this.players = players;
    this.clock = clock;
  }

  @PostMapping("/internal/players/{id}/grants")
  public Mono<CommandResponse> grant(
      @PathVariable String id, @RequestBody GrantRequest body, java.security.Principal caller) {
    PlayerRequests.requirePlayerId(id);
    if (body == null || body.rewardId() == null || !REWARD_ID.matcher(body.rewardId()).matches()) {
      throw ApiException.badRequest(
          "'rewardId' is required: 1-128 letters, digits, '_', '.', ':' or '-'");
    }
    List<PlayerCommand.Items> items =
        body.items() == null
            ? List.of()
            : body.items().stream()
                .map(
                    i -> {
                      if (i == null || i.itemId() == null || i.quantity() == null) {
                        throw ApiException.badRequest("every item needs 'itemId' and 'quantity'");
                      }
                      return new PlayerCommand.Items(i.itemId(), i.quantity());
                    })
                .toList();
    PlayerCommand.Grant command =
        new PlayerCommand.Grant(
            body.gold() == null ? 0 : body.gold(),
            body.experience() == null ? 0 : body.experience(),
            items,
            body.reason() == null ? defaultReason(body.rewardId()) : body.reason());
    // Scoped to the calling client: two game servers' reward ids never meet.
    IdempotencyKey key =
        IdempotencyKey.of("reward:" + caller.getName() + ":" + body.rewardId(), command);
    return players.handle(id, command, clock.instant(), key).map(PlayerRequests::response);
  }

  /**
   * The reason a grant without one records: its reward id, cut to what a reason may hold (a reward
   * id may be twice as long: a game server's grant must not be refused for a field it never sent).
   */
  static String defaultReason(String rewardId) {
    String reason = "reward " + rewardId;
    return reason.length() <= Player.MAX_REASON ? reason : reason.substring(0, Player.MAX_REASON);
  }
}
