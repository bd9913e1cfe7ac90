package dev.citadel.gamestate.player;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * A player's state. Immutable: {@link Player#evolve} returns a new one.
 *
 * @param exists false until {@code PlayerCreated}
 * @param room the room the player is seated in, if any
 */
public record PlayerState(
    String id,
    boolean exists,
    String nickname,
    int level,
    long experience,
    long gold,
    Map<String, Integer> inventory,
    Optional<Seat> room,
    Instant createdAt) {

  /** A seat in a game room, from matchmaking. */
  public record Seat(String matchId, int channel, int room) {}

  public PlayerState {
    inventory = Map.copyOf(inventory);
  }

  public static PlayerState initial(String id) {
    return new PlayerState(id, false, "", 0, 0, 0, Map.of(), Optional.empty(), Instant.EPOCH);
  }

  public int quantityOf(String itemId) {
    return inventory.getOrDefault(itemId, 0);
  }
}
