package dev.citadel.gamestate.player;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.EventData;
import dev.citadel.gamestate.player.PlayerCommand.Relate.Action;
import dev.citadel.gamestate.storage.PlayerCodec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Random command sequences against the player's pure functions. Two properties, checked after every
 * event of 2,000 seeded sequences:
 *
 * <ul>
 *   <li>each event changes only the fields it names (joining a room once erased the friend list);
 *   <li>replay equals the state in memory: the events through the codec from the start, and a
 *       snapshot taken anywhere plus the events after it.
 * </ul>
 *
 * A failure names its seed; {@code new Random(seed)} repeats the sequence.
 */
class PlayerPropertyTest {
  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  static final List<String> OTHERS = List.of("p2", "p3", "p4");
  static final List<String> ITEMS = List.of("sword", "gem", "potion");

  /** Every field of the state, by name. */
  static final Map<String, Function<PlayerState, Object>> FIELDS = fields();

  /** The fields an event may change; every other field must stay as it was. */
  static Set<String> named(PlayerEvent event) {
    if (event instanceof PlayerEvent.PlayerCreated) {
      return Set.of("exists", "nickname", "level", "createdAt");
    }
    if (event instanceof PlayerEvent.ExperienceGained) {
      return Set.of("experience");
    }
    if (event instanceof PlayerEvent.LeveledUp) {
      return Set.of("level");
    }
    if (event instanceof PlayerEvent.GoldEarned || event instanceof PlayerEvent.GoldSpent) {
      return Set.of("gold");
    }
    if (event instanceof PlayerEvent.ItemAdded || event instanceof PlayerEvent.ItemRemoved) {
      return Set.of("inventory");
    }
    if (event instanceof PlayerEvent.NicknameSet) {
      return Set.of("nickname", "nicknameSeq");
    }
    if (event instanceof PlayerEvent.RoomJoined) {
      return Set.of("room");
    }
    if (event instanceof PlayerEvent.RoomLeft) {
      return Set.of("room", "leftMatches");
    }
    if (event instanceof PlayerEvent.FriendshipChanged) {
      return Set.of("relations");
    }
    if (event instanceof PlayerEvent.MatchRated r) {
      return r.settled().isEmpty()
          ? Set.of("ratings", "recentMatches")
          : Set.of(
              "ratings", "recentMatches", "gold", "experience", "level", "room", "leftMatches");
    }
    throw new AssertionError("no field list for " + event);
  }

  @Test
  void every_event_changes_only_the_fields_it_names_and_replay_equals_memory() {
    for (long seed = 0; seed < 2_000; seed++) {
      check(seed);
    }
  }

  @Test
  void friends_are_kept_across_joining_and_leaving_a_room() {
    PlayerState s =
        Player.replay(
            PlayerState.initial("p1"),
            List.of(
                new PlayerEvent.PlayerCreated("p1", "alice", T),
                new PlayerEvent.FriendshipChanged("p2", PlayerState.Relation.FRIENDS),
                new PlayerEvent.FriendshipChanged("p3", PlayerState.Relation.ASKED),
                new PlayerEvent.RoomJoined("m1", 0, 4)));
    assertThat(s.relations())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("p2", PlayerState.Relation.FRIENDS, "p3", PlayerState.Relation.ASKED));
    PlayerState left = Player.evolve(s, new PlayerEvent.RoomLeft("m1"));
    assertThat(left.relations()).isEqualTo(s.relations());
    // And the pair can still unfriend.
    assertThat(Player.decide(new PlayerCommand.Relate("p2", Action.REMOVE), left))
        .containsExactly(new PlayerEvent.FriendshipChanged("p2", PlayerState.Relation.NONE));
  }

  private static void check(long seed) {
    Random random = new Random(seed);
    PlayerState memory = PlayerState.initial("p1");
    List<EventData> journal = new ArrayList<>();
    List<byte[]> snapshots = new ArrayList<>();
    int steps = 1 + random.nextInt(60);
    for (int step = 0; step < steps; step++) {
      PlayerCommand command = step == 0 ? create(random) : command(random, memory);
      List<PlayerEvent> events;
      try {
        events = Player.decide(command, memory);
      } catch (PlayerRejected refused) {
        continue; // a refused command changes nothing, which the next steps check anyway
      }
      for (PlayerEvent event : events) {
        PlayerState next = Player.evolve(memory, event);
        for (var field : FIELDS.entrySet()) {
          if (!named(event).contains(field.getKey())) {
            assertThat(field.getValue().apply(next))
                .as("seed %d: %s changed %s", seed, event, field.getKey())
                .isEqualTo(field.getValue().apply(memory));
          }
        }
        memory = next;
        journal.add(PlayerCodec.encode(event));
        snapshots.add(memory.exists() ? PlayerCodec.snapshot(memory) : null);
      }
    }
    assertThat(replay(PlayerState.initial("p1"), journal))
        .as("seed %d: replay from the start", seed)
        .isEqualTo(memory);
    if (!journal.isEmpty()) {
      int at = random.nextInt(journal.size());
      if (snapshots.get(at) != null) {
        PlayerState restored = PlayerCodec.restore(snapshots.get(at));
        assertThat(replay(restored, journal.subList(at + 1, journal.size())))
            .as("seed %d: snapshot after event %d plus the tail", seed, at)
            .isEqualTo(memory);
      }
    }
  }

  private static PlayerState replay(PlayerState from, List<EventData> journal) {
    PlayerState state = from;
    for (EventData data : journal) {
      state = Player.evolve(state, PlayerCodec.decode(data.type(), data.payload()));
    }
    return state;
  }

  private static PlayerCommand create(Random random) {
    return new PlayerCommand.CreatePlayer("alice" + random.nextInt(100), T);
  }

  /** Mostly valid commands for this state, sometimes invalid ones. */
  private static PlayerCommand command(Random random, PlayerState s) {
    String other = OTHERS.get(random.nextInt(OTHERS.size()));
    String item = ITEMS.get(random.nextInt(ITEMS.size()));
    int quantity = 1 + random.nextInt(3);
    return switch (random.nextInt(13)) {
      case 0 -> new PlayerCommand.GainExperience(1 + random.nextInt(500));
      case 1 -> new PlayerCommand.EarnGold(1 + random.nextInt(100), "quest");
      case 2 -> new PlayerCommand.SpendGold(1 + random.nextInt(100), "shop");
      case 3 -> new PlayerCommand.AddItem(item, quantity);
      case 4 -> new PlayerCommand.RemoveItem(item, quantity);
      case 5 -> new PlayerCommand.SetNickname("bob" + random.nextInt(3), 1 + random.nextInt(6));
      case 6 -> new PlayerCommand.JoinRoom("m" + random.nextInt(3), random.nextInt(4), 1);
      case 7 ->
          new PlayerCommand.LeaveRoom(
              s.room().map(PlayerState.Seat::matchId).orElse("m" + random.nextInt(3)));
      case 8 ->
          new PlayerCommand.Grant(
              random.nextInt(50),
              random.nextInt(300),
              List.of(new PlayerCommand.Items(item, quantity)),
              "match reward");
      case 9 -> new PlayerCommand.Purchase(item, quantity, 1 + random.nextInt(20));
      case 10 ->
          new PlayerCommand.RateMatch(
              "r" + random.nextInt(40),
              random.nextBoolean() ? "ranked" : "casual",
              Outcome.values()[random.nextInt(Outcome.values().length)],
              random.nextDouble(),
              new PlayerCommand.RatingRules(1200, 24, 48, 3),
              random.nextInt(30),
              random.nextInt(200));
      default ->
          new PlayerCommand.Relate(other, Action.values()[random.nextInt(Action.values().length)]);
    };
  }

  private static Map<String, Function<PlayerState, Object>> fields() {
    Map<String, Function<PlayerState, Object>> f = new LinkedHashMap<>();
    f.put("id", PlayerState::id);
    f.put("exists", PlayerState::exists);
    f.put("nickname", PlayerState::nickname);
    f.put("nicknameSeq", PlayerState::nicknameSeq);
    f.put("level", PlayerState::level);
    f.put("experience", PlayerState::experience);
    f.put("gold", PlayerState::gold);
    f.put("inventory", PlayerState::inventory);
    f.put("room", PlayerState::room);
    f.put("createdAt", PlayerState::createdAt);
    f.put("relations", PlayerState::relations);
    f.put("ratings", PlayerState::ratings);
    f.put("recentMatches", PlayerState::recentMatches);
    f.put("leftMatches", PlayerState::leftMatches);
    // A field added to the state and missing here fails this check.
    assertThat(f.keySet())
        .containsExactlyInAnyOrderElementsOf(
            java.util.Arrays.stream(PlayerState.class.getRecordComponents())
                .map(java.lang.reflect.RecordComponent::getName)
                .toList());
    return f;
  }
}
