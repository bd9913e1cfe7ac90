package dev.citadel.gamestate.shop;

import dev.citadel.gamestate.player.Player;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What players may buy and for how much gold: server configuration ({@code
 * citadel.game-state.catalogue}), never the request. A purchase names only the item and the
 * quantity.
 */
public record Catalogue(Map<String, Long> prices) {
  public Catalogue {
    prices = Map.copyOf(prices);
    prices.forEach(
        (item, price) -> {
          // An id no purchase may name (capitals, a dot) would be listed and refused to every
          // player as their fault (400): refused here, at start-up.
          if (!Player.ITEM_ID.matcher(item).matches()) {
            throw new IllegalArgumentException(
                "item id '" + item + "' must match " + Player.ITEM_ID.pattern());
          }
          if (price == null || price <= 0) {
            throw new IllegalArgumentException("the price of " + item + " must be positive");
          }
          // Above it every purchase would be refused as the player's fault (400): a typo in the
          // configuration stops start-up instead.
          if (price > Player.MAX_AMOUNT) {
            throw new IllegalArgumentException(
                "the price of " + item + " must be at most " + Player.MAX_AMOUNT);
          }
        });
  }

  public Optional<Long> price(String itemId) {
    return Optional.ofNullable(itemId == null ? null : prices.get(itemId));
  }

  /** Sorted by item id, for the API. */
  public Map<String, Long> sorted() {
    return new TreeMap<>(prices);
  }
}
