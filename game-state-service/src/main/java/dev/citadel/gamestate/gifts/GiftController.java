package dev.citadel.gamestate.gifts;

import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.gamestate.http.PlayerRequests;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.transactions.Coordinator;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.notify.PlayerNotifier;
import dev.citadel.web.problem.ApiException;
import dev.citadel.web.security.AuthenticatedPlayer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Gifts of gold or an item from one player to another: one two-phase transaction over both players
 * (the giver spends, the receiver earns), wherever each lives. Never negative (the giver's rules
 * refuse), never duplicated (one transaction, one store).
 */
@RestController
@RequestMapping("/api/game/players/{id}/gifts")
public class GiftController {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(GiftController.class);

  /** {@code gold}, or {@code itemId} with {@code quantity} (default 1). */
  public record GiftRequest(String to, Long gold, String itemId, Integer quantity) {}

  /** {@code gift.received}'s data: who sent it, and the gift's id. */
  record GiftReceived(String from, String giftId) {}

  private final Coordinator coordinator;
  private final PlayerNotifier notifier;

  public GiftController(Coordinator coordinator, PlayerNotifier notifier) {
    this.coordinator = coordinator;
    this.notifier = notifier;
  }

  @PostMapping
  public Mono<Map<String, Object>> give(
      @PathVariable String id,
      @RequestBody(required = false) GiftRequest body,
      @RequestHeader(name = PlayerRequests.IDEMPOTENCY_KEY, required = false) String key,
      AuthenticatedPlayer caller) {
    PlayerRequests.authorize(caller, id);
    if (body == null || body.to() == null || body.to().isBlank()) {
      throw ApiException.badRequest("'to' (the receiving player's id) is required");
    }
    if (body.to().equals(id)) {
      throw ApiException.badRequest("a player cannot give a gift to themselves");
    }
    PlayerRequests.requirePlayerId(body.to());
    if ((body.gold() == null) == (body.itemId() == null)) {
      throw ApiException.badRequest("give either 'gold' or 'itemId' (with 'quantity')");
    }
    // Checked before any transaction starts: a bad amount is the caller's mistake (400), not a
    // participant's refusal.
    if (body.gold() != null && (body.gold() < 1 || body.gold() > Player.MAX_AMOUNT)) {
      throw ApiException.badRequest("'gold' must be between 1 and " + Player.MAX_AMOUNT);
    }
    if (body.itemId() != null && !Player.ITEM_ID.matcher(body.itemId()).matches()) {
      throw ApiException.badRequest("'itemId' must be 1-64 lower-case letters, digits, '_' or '-'");
    }
    if (body.quantity() != null && (body.quantity() < 1 || body.quantity() > Player.MAX_QUANTITY)) {
      throw ApiException.badRequest("'quantity' must be between 1 and " + Player.MAX_QUANTITY);
    }
    // The gift's id is in both players' events, so either side can be traced to the other. With
    // an Idempotency-Key it comes from the key: a retried gift is the same gift, given once.
    IdempotencyKey once = key == null ? null : PlayerRequests.idempotencyKey(key, id, "gift", body);
    String giftId =
        once == null
            ? UUID.randomUUID().toString()
            : "g-" + IdempotencyKey.of("gift-id", once.value()).fingerprint().substring(0, 32);
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("giftId", giftId);
    result.put("from", id);
    result.put("to", body.to());
    List<Step> steps;
    if (body.gold() != null) {
      steps =
          List.of(
              new Step(id, "spend-gold", Map.of("amount", body.gold(), "reason", "gift " + giftId)),
              new Step(
                  body.to(),
                  "earn-gold",
                  Map.of("amount", body.gold(), "reason", "gift " + giftId)));
      result.put("gold", body.gold());
    } else {
      int quantity = body.quantity() == null ? 1 : body.quantity();
      Map<String, Object> item = Map.of("itemId", body.itemId(), "quantity", quantity);
      steps = List.of(new Step(id, "remove-item", item), new Step(body.to(), "add-item", item));
      result.put("itemId", body.itemId());
      result.put("quantity", quantity);
    }
    return coordinator
        .execute(steps, once)
        .flatMap(
            outcome -> {
              result.put("repeated", outcome.repeated());
              if (!outcome.repeated()) {
                result.put("transactionId", outcome.transactionId());
              }
              // A repeat tells the receiver again: the first request may have committed and then
              // failed (or its instance stopped) before it told them, and its retry is the only
              // request left that can. At least once; the gift's id tells a repeat.
              var data = new GiftReceived(id, giftId);
              return notifier
                  .notify(body.to(), "gift.received", data)
                  .onErrorResume(
                      e -> {
                        log.warn(
                            "gift {} not announced to {}: {}", giftId, body.to(), e.toString());
                        return Mono.just(0L);
                      })
                  .thenReturn(result);
            });
  }
}
