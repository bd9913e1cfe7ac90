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
    Instant createdAt,
    Map<String, Relation> relations) {

  /** How this player stands with another one (friends, or a request either way). */
  public enum Relation {
    NONE,
    /** This player asked the other. */
    REQUESTED,
    /** The other player asked this one. */
    ASKED,
    FRIENDS
  }

  public PlayerState(
      String id,
      boolean exists,
      String nickname,
      int level,
      long experience,
      long gold,
      Map<String, Integer> inventory,
      Optional<Seat> room,
      Instant createdAt) {
    this(id, exists, nickname, level, experience, gold, inventory, room, createdAt, Map.of());
  }

  /** A seat in a game room, from matchmaking. */
  public record Seat(String matchId, int channel, int room) {}

  public PlayerState {
    inventory = Map.copyOf(inventory);
    relations = Map.copyOf(relations);
  }

  public Relation relationTo(String other) {
    return relations.getOrDefault(other, Relation.NONE);
  }

  public static PlayerState initial(String id) {
    return new PlayerState(id, false, "", 0, 0, 0, Map.of(), Optional.empty(), Instant.EPOCH);
  }

  public int quantityOf(String itemId) {
    return inventory.getOrDefault(itemId, 0);
  }
}
