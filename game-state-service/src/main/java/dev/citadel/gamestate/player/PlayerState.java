package dev.citadel.gamestate.player;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A player's state. Immutable: {@link Player#evolve} returns a new one.
 *
 * @param exists false until {@code PlayerCreated}
 * @param nicknameSeq the place in the account's stream of the rename that set the nickname (0: none
 *     yet, or set before renames carried it): an older rename delivered later changes nothing
 * @param room the room the player is seated in, if any
 * @param ratings per queue, for queues with at least one rated game
 * @param recentMatches the last {@link #RECENT_MATCHES} rated matches, oldest first
 * @param leftMatches the last {@link #LEFT_MATCHES} matches the player left (or was told were over
 *     before being seated), oldest first: a seat in one of them that arrives late is refused
 */
public record PlayerState(
    String id,
    boolean exists,
    String nickname,
    long nicknameSeq,
    int level,
    long experience,
    long gold,
    Map<String, Integer> inventory,
    Optional<Seat> room,
    Instant createdAt,
    Map<String, Relation> relations,
    Map<String, Rating> ratings,
    List<PlayerEvent.MatchRated> recentMatches,
    List<String> leftMatches) {
  public static final int RECENT_MATCHES = 20;
  public static final int LEFT_MATCHES = 16;

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

  /** A rating in one queue and how many rated games it rests on. */
  public record Rating(int rating, int games) {}

  public PlayerState {
    inventory = Map.copyOf(inventory);
    relations = Map.copyOf(relations);
    ratings = Map.copyOf(ratings);
    recentMatches = List.copyOf(recentMatches);
    leftMatches = List.copyOf(leftMatches);
  }

  public Relation relationTo(String other) {
    return relations.getOrDefault(other, Relation.NONE);
  }

  public static PlayerState initial(String id) {
    return new PlayerState(
        id,
        false,
        "",
        0,
        0,
        0,
        0,
        Map.of(),
        Optional.empty(),
        Instant.EPOCH,
        Map.of(),
        Map.of(),
        List.of(),
        List.of());
  }

  // One method per field: every change names the field it changes and keeps all the others.
  // (A copy built field by field once dropped the friend list when a player joined a room.)

  /** Created: exists, with its nickname, at level 1, at that time. Everything else is kept. */
  public PlayerState created(String nickname, Instant at) {
    return new PlayerState(
        id,
        true,
        nickname,
        nicknameSeq,
        1,
        experience,
        gold,
        inventory,
        room,
        at,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withNickname(String nickname, long nicknameSeq) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withLevel(int level) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withExperience(long experience) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withGold(long gold) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withInventory(Map<String, Integer> inventory) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withRoom(Optional<Seat> room) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withRelations(Map<String, Relation> relations) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withRatings(Map<String, Rating> ratings) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  public PlayerState withRecentMatches(List<PlayerEvent.MatchRated> recentMatches) {
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room,
        createdAt,
        relations,
        ratings,
        recentMatches,
        leftMatches);
  }

  /**
   * Out of its room if it was seated in {@code matchId}, with the match remembered as left (the
   * oldest forgotten past {@link #LEFT_MATCHES}).
   */
  public PlayerState leaving(String matchId) {
    ArrayList<String> left = new ArrayList<>(leftMatches);
    left.remove(matchId);
    left.add(matchId);
    while (left.size() > LEFT_MATCHES) {
      left.remove(0);
    }
    return new PlayerState(
        id,
        exists,
        nickname,
        nicknameSeq,
        level,
        experience,
        gold,
        inventory,
        room.filter(seat -> !seat.matchId().equals(matchId)),
        createdAt,
        relations,
        ratings,
        recentMatches,
        left);
  }

  public boolean hasLeft(String matchId) {
    return leftMatches.contains(matchId);
  }

  public int quantityOf(String itemId) {
    return inventory.getOrDefault(itemId, 0);
  }

  /** The rating in a queue, or {@code initial} with no games for a queue never played. */
  public Rating ratingIn(String queue, int initial) {
    return ratings.getOrDefault(queue, new Rating(initial, 0));
  }
}
