package dev.citadel.gamestate.friends;

import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.gamestate.http.PlayerRequests;
import dev.citadel.gamestate.player.PlayerCommand.Relate.Action;
import dev.citadel.gamestate.transactions.Coordinator;
import dev.citadel.gamestate.transactions.LocalParticipant;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.notify.PlayerNotifier;
import dev.citadel.web.problem.ApiException;
import dev.citadel.web.security.AuthenticatedPlayer;
import java.util.List;
import java.util.Map;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Friend requests, accept, decline, withdraw and remove. Each changes BOTH players' friend lists in
 * one two-phase transaction, so the two sides never disagree, and tells the other player over
 * WebSocket. The current lists are in the player's view ({@code GET /api/game/players/{id}}).
 */
@RestController
@RequestMapping("/api/game/players/{id}/friends")
public class FriendController {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(FriendController.class);

  public record FriendRequest(String to) {}

  private final Coordinator coordinator;
  private final PlayerNotifier notifier;

  public FriendController(Coordinator coordinator, PlayerNotifier notifier) {
    this.coordinator = coordinator;
    this.notifier = notifier;
  }

  @PostMapping("/requests")
  public Mono<Map<String, Object>> request(
      @PathVariable String id,
      @RequestBody(required = false) FriendRequest body,
      @RequestHeader(name = PlayerRequests.IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    PlayerRequests.authorize(caller, id);
    if (body == null || body.to() == null || body.to().isBlank()) {
      throw ApiException.badRequest("'to' (the other player's id) is required");
    }
    return change(id, Action.SEND, body.to(), Action.RECEIVE, "friend.request", key);
  }

  @PostMapping("/requests/{from}/accept")
  public Mono<Map<String, Object>> accept(
      @PathVariable String id,
      @PathVariable String from,
      @RequestHeader(name = PlayerRequests.IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    PlayerRequests.authorize(caller, id);
    return change(id, Action.ACCEPT, from, Action.ACCEPTED, "friend.accepted", key);
  }

  @PostMapping("/requests/{from}/decline")
  public Mono<Map<String, Object>> decline(
      @PathVariable String id,
      @PathVariable String from,
      @RequestHeader(name = PlayerRequests.IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    PlayerRequests.authorize(caller, id);
    return change(id, Action.DECLINE, from, Action.DECLINED, "friend.declined", key);
  }

  /**
   * Withdraws a request the caller sent and the other has not answered. Without it a request to an
   * account nobody plays any more held one of the caller's 500 places for good.
   */
  @DeleteMapping("/requests/{to}")
  public Mono<Map<String, Object>> withdraw(
      @PathVariable String id,
      @PathVariable String to,
      @RequestHeader(name = PlayerRequests.IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    PlayerRequests.authorize(caller, id);
    // The sender's side of a declined request with the receiver's decline: both back to none.
    return change(id, Action.DECLINED, to, Action.DECLINE, "friend.withdrawn", key);
  }

  @DeleteMapping("/{other}")
  public Mono<Map<String, Object>> remove(
      @PathVariable String id,
      @PathVariable String other,
      @RequestHeader(name = PlayerRequests.IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    PlayerRequests.authorize(caller, id);
    return change(id, Action.REMOVE, other, Action.REMOVE, "friend.removed", key);
  }

  private Mono<Map<String, Object>> change(
      String id, Action mine, String other, Action theirs, String notification, String key) {
    // Checked before any transaction starts: an id PostgreSQL cannot even store (a NUL) must be a
    // 400, not a transaction that fails at the store.
    PlayerRequests.requirePlayerId(other);
    if (other.equals(id)) {
      throw ApiException.badRequest("a player cannot be their own friend");
    }
    List<Step> steps =
        List.of(
            new Step(id, LocalParticipant.RELATE, Map.of("other", other, "action", mine.name())),
            new Step(other, LocalParticipant.RELATE, Map.of("other", id, "action", theirs.name())));
    IdempotencyKey once =
        key == null ? null : PlayerRequests.idempotencyKey(key, id, "friends", mine + " " + other);
    return coordinator
        .execute(steps, once)
        .flatMap(
            outcome -> {
              Map<String, Object> answer =
                  Map.of(
                      "player",
                      id,
                      "other",
                      other,
                      "action",
                      mine.name(),
                      "repeated",
                      outcome.repeated());
              // A repeat tells the other player again, as a repeated gift does: the first request
              // may have committed and then failed (or its instance stopped) before telling them.
              return notifier
                  .notify(other, notification, java.util.Map.of("from", id))
                  .onErrorResume(
                      e -> {
                        log.warn("{} not announced to {}: {}", notification, other, e.toString());
                        return Mono.just(0L);
                      })
                  .thenReturn(answer);
            });
  }
}
