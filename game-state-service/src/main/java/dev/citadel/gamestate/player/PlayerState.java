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
    return new PlayerState(
        id, false, "", 0, 0, 0, Map.of(), Optional.empty(), Instant.EPOCH, Map.of());
  }

  // One method per field: every change names the field it changes and keeps all the others.
  // (A copy built field by field once dropped the friend list when a player joined a room.)

  /** Created: exists, with its nickname, at level 1, at that time. Everything else is kept. */
  public PlayerState created(String nickname, Instant at) {
    return new PlayerState(id, true, nickname, 1, experience, gold, inventory, room, at, relations);
  }

  public PlayerState withNickname(String nickname) {
    return new PlayerState(
        id, exists, nickname, level, experience, gold, inventory, room, createdAt, relations);
  }

  public PlayerState withLevel(int level) {
    return new PlayerState(
        id, exists, nickname, level, experience, gold, inventory, room, createdAt, relations);
  }

  public PlayerState withExperience(long experience) {
    return new PlayerState(
        id, exists, nickname, level, experience, gold, inventory, room, createdAt, relations);
  }

  public PlayerState withGold(long gold) {
    return new PlayerState(
        id, exists, nickname, level, experience, gold, inventory, room, createdAt, relations);
  }

  public PlayerState withInventory(Map<String, Integer> inventory) {
    return new PlayerState(
        id, exists, nickname, level, experience, gold, inventory, room, createdAt, relations);
  }

  public PlayerState withRoom(Optional<Seat> room) {
    return new PlayerState(
        id, exists, nickname, level, experience, gold, inventory, room, createdAt, relations);
  }

  public PlayerState withRelations(Map<String, Relation> relations) {
    return new PlayerState(
        id, exists, nickname, level, experience, gold, inventory, room, createdAt, relations);
  }

  public int quantityOf(String itemId) {
    return inventory.getOrDefault(itemId, 0);
  }
}
