package dev.citadel.gamestate.player;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.gamestate.player.PlayerCommand.AddItem;
import dev.citadel.gamestate.player.PlayerCommand.CreatePlayer;
import dev.citadel.gamestate.player.PlayerCommand.EarnGold;
import dev.citadel.gamestate.player.PlayerCommand.GainExperience;
import dev.citadel.gamestate.player.PlayerCommand.JoinRoom;
import dev.citadel.gamestate.player.PlayerCommand.LeaveRoom;
import dev.citadel.gamestate.player.PlayerCommand.RemoveItem;
import dev.citadel.gamestate.player.PlayerCommand.SetNickname;
import dev.citadel.gamestate.player.PlayerCommand.SpendGold;
import dev.citadel.gamestate.player.PlayerEvent.ExperienceGained;
import dev.citadel.gamestate.player.PlayerEvent.GoldEarned;
import dev.citadel.gamestate.player.PlayerEvent.GoldSpent;
import dev.citadel.gamestate.player.PlayerEvent.ItemAdded;
import dev.citadel.gamestate.player.PlayerEvent.ItemRemoved;
import dev.citadel.gamestate.player.PlayerEvent.LeveledUp;
import dev.citadel.gamestate.player.PlayerEvent.NicknameSet;
import dev.citadel.gamestate.player.PlayerEvent.PlayerCreated;
import dev.citadel.gamestate.player.PlayerEvent.RoomJoined;
import dev.citadel.gamestate.player.PlayerEvent.RoomLeft;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Given events, when a command, then events (or a rejection). No Spring, no I/O. */
class PlayerTest {
  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  static final PlayerCreated CREATED = new PlayerCreated("p1", "alice", T);

  private static Scenario given(PlayerEvent... history) {
    return new Scenario(List.of(history));
  }

  record Scenario(List<PlayerEvent> history) {
    Then when(PlayerCommand command) {
      PlayerState state = Player.replay(PlayerState.initial("p1"), history);
      return new Then(state, command);
    }
  }

  record Then(PlayerState state, PlayerCommand command) {
    void then(PlayerEvent... expected) {
      assertThat(Player.decide(command, state)).containsExactly(expected);
    }

    void rejected(PlayerRejected.Kind kind, String messagePart) {
      assertThatThrownBy(() -> Player.decide(command, state))
          .isInstanceOfSatisfying(PlayerRejected.class, e -> assertThat(e.kind()).isEqualTo(kind))
          .hasMessageContaining(messagePart);
    }
  }

  @Test
  void a_new_player_is_created_with_the_time_of_the_command() {
    given().when(new CreatePlayer("alice", T)).then(new PlayerCreated("p1", "alice", T));
  }

  @Test
  void creating_twice_is_a_conflict() {
    given(CREATED)
        .when(new CreatePlayer("alice", T))
        .rejected(PlayerRejected.Kind.CONFLICT, "exists");
  }

  @Test
  void commands_to_an_unknown_player_are_not_found() {
    given().when(new EarnGold(5, "quest")).rejected(PlayerRejected.Kind.NOT_FOUND, "no player p1");
  }

  @Test
  void bad_nicknames_are_invalid() {
    given().when(new CreatePlayer("a", T)).rejected(PlayerRejected.Kind.INVALID, "nickname");
    given()
        .when(new CreatePlayer("bad name!", T))
        .rejected(PlayerRejected.Kind.INVALID, "nickname");
    given(CREATED)
        .when(new SetNickname("x".repeat(17), 1))
        .rejected(PlayerRejected.Kind.INVALID, "nickname");
  }

  @Test
  void experience_levels_up_once_to_the_level_reached() {
    given(CREATED)
        .when(new GainExperience(450))
        .then(new ExperienceGained(450, 450), new LeveledUp(3));
    given(CREATED, new ExperienceGained(450, 450), new LeveledUp(3))
        .when(new GainExperience(10))
        .then(new ExperienceGained(10, 460));
    // Journals written before 2026-12-07 hold one event per level crossed: the same level.
    given(CREATED, new ExperienceGained(450, 450), new LeveledUp(2), new LeveledUp(3))
        .when(new GainExperience(1_000))
        .then(new ExperienceGained(1_000, 1_450), new LeveledUp(4));
  }

  @Test
  void the_largest_grant_of_experience_writes_one_level_event_not_thousands() {
    given(CREATED)
        .when(new PlayerCommand.Grant(0, Player.MAX_AMOUNT, List.of(), "quest"))
        .then(
            new ExperienceGained(Player.MAX_AMOUNT, Player.MAX_AMOUNT),
            new LeveledUp(Player.levelFor(Player.MAX_AMOUNT)));
  }

  @Test
  void gold_is_earned_and_spent_but_never_negative() {
    given(CREATED).when(new EarnGold(100, "quest")).then(new GoldEarned(100, "quest"));
    given(CREATED, new GoldEarned(100, "quest"))
        .when(new SpendGold(60, "shop"))
        .then(new GoldSpent(60, "shop"));
    given(CREATED, new GoldEarned(100, "quest"))
        .when(new SpendGold(101, "shop"))
        .rejected(PlayerRejected.Kind.CONFLICT, "only 100 owned");
  }

  @Test
  void amounts_must_be_positive_and_bounded() {
    given(CREATED).when(new EarnGold(-5, "x")).rejected(PlayerRejected.Kind.INVALID, "amount");
    given(CREATED).when(new SpendGold(0, "x")).rejected(PlayerRejected.Kind.INVALID, "amount");
    given(CREATED)
        .when(new GainExperience(Player.MAX_AMOUNT + 1))
        .rejected(PlayerRejected.Kind.INVALID, "amount");
  }

  @Test
  void a_missing_reason_is_recorded_as_unspecified() {
    given(CREATED).when(new EarnGold(1, null)).then(new GoldEarned(1, "unspecified"));
  }

  @Test
  void items_are_added_and_removed_but_never_below_zero() {
    given(CREATED).when(new AddItem("sword", 2)).then(new ItemAdded("sword", 2));
    given(CREATED, new ItemAdded("sword", 2))
        .when(new RemoveItem("sword", 2))
        .then(new ItemRemoved("sword", 2));
    given(CREATED, new ItemAdded("sword", 2))
        .when(new RemoveItem("sword", 3))
        .rejected(PlayerRejected.Kind.CONFLICT, "only 2 owned");
    given(CREATED).when(new AddItem("Bad Id", 1)).rejected(PlayerRejected.Kind.INVALID, "itemId");
    given(CREATED).when(new AddItem("sword", 0)).rejected(PlayerRejected.Kind.INVALID, "quantity");
  }

  @Test
  void removing_the_last_item_drops_it_from_the_inventory() {
    PlayerState state =
        Player.replay(
            PlayerState.initial("p1"),
            List.of(CREATED, new ItemAdded("sword", 2), new ItemRemoved("sword", 2)));
    assertThat(state.inventory()).isEmpty();
  }

  @Test
  void renames_apply_in_the_account_streams_order_whatever_order_they_arrive_in() {
    given(CREATED).when(new SetNickname("bob", 3)).then(new NicknameSet("bob", 3));
    // The same rename again, or an older one arriving late: nothing.
    given(CREATED, new NicknameSet("bob", 3)).when(new SetNickname("bob", 3)).then();
    given(CREATED, new NicknameSet("bob", 3)).when(new SetNickname("carol", 2)).then();
    // A newer one naming the nickname shown is recorded, so the older one cannot follow it.
    given(CREATED, new NicknameSet("bob", 2))
        .when(new SetNickname("alice", 4))
        .then(new NicknameSet("alice", 4));
    given(CREATED, new NicknameSet("bob", 2), new NicknameSet("alice", 4))
        .when(new SetNickname("bob", 2))
        .then();
  }

  @Test
  void a_rename_stored_before_renames_carried_their_place_keeps_the_place_seen() {
    PlayerState s =
        Player.evolve(
            Player.evolve(
                Player.evolve(PlayerState.initial("p1"), CREATED), new NicknameSet("bob", 5)),
            new NicknameSet("carol", 0));
    assertThat(s.nickname()).isEqualTo("carol");
    assertThat(s.nicknameSeq()).isEqualTo(5);
  }

  @Test
  void a_player_sits_in_one_room_at_a_time_and_joining_is_idempotent() {
    given(CREATED).when(new JoinRoom("m1", 3, 7)).then(new RoomJoined("m1", 3, 7));
    given(CREATED, new RoomJoined("m1", 3, 7)).when(new JoinRoom("m1", 3, 7)).then();
    given(CREATED, new RoomJoined("m1", 3, 7))
        .when(new JoinRoom("m2", 1, 1))
        .rejected(PlayerRejected.Kind.CONFLICT, "already in match m1");
    given(CREATED, new RoomJoined("m1", 3, 7)).when(new LeaveRoom("m1")).then(new RoomLeft("m1"));
    given(CREATED, new RoomJoined("m1", 3, 7), new RoomLeft("m1")).when(new LeaveRoom("m1")).then();
  }

  /**
   * The end of a game can be followed before its seat lands (the seat of a failed attempt, or
   * another instance following the end first). Leaving is recorded even when not seated, so such a
   * seat, decided before the leave, conflicts on the version, and decided again it is refused: the
   * player is never left in a game that is over.
   */
  @Test
  void a_game_left_before_its_seat_landed_is_never_joined() {
    given(CREATED).when(new LeaveRoom("m1")).then(new RoomLeft("m1"));
    given(CREATED, new RoomLeft("m1")).when(new LeaveRoom("m1")).then();
    given(CREATED, new RoomLeft("m1"))
        .when(new JoinRoom("m1", 3, 7))
        .rejected(PlayerRejected.Kind.CONFLICT, "match m1 is over");
    // Leaving another game keeps the seat the player has now.
    PlayerState seated =
        Player.replay(
            PlayerState.initial("p1"),
            List.of(CREATED, new RoomJoined("m2", 1, 1), new RoomLeft("m1")));
    assertThat(seated.room()).contains(new PlayerState.Seat("m2", 1, 1));
    assertThat(Player.decide(new JoinRoom("m3", 0, 0), seated.leaving("m2")))
        .containsExactly(new RoomJoined("m3", 0, 0));
  }

  @Test
  void only_the_last_games_left_are_remembered() {
    PlayerState s = Player.evolve(PlayerState.initial("p1"), CREATED);
    for (int i = 0; i < PlayerState.LEFT_MATCHES + 4; i++) {
      s = Player.evolve(s, new RoomLeft("m" + i));
    }
    assertThat(s.leftMatches())
        .hasSize(PlayerState.LEFT_MATCHES)
        .doesNotContain("m3")
        .contains("m4");
    assertThat(s.leftMatches().get(PlayerState.LEFT_MATCHES - 1))
        .isEqualTo("m" + (PlayerState.LEFT_MATCHES + 3));
  }

  @Test
  void evolve_builds_the_state_the_events_describe() {
    PlayerState s =
        Player.replay(
            PlayerState.initial("p1"),
            List.of(
                CREATED,
                new ExperienceGained(150, 150),
                new LeveledUp(2),
                new GoldEarned(30, "q"),
                new GoldSpent(10, "s"),
                new ItemAdded("gem", 3),
                new NicknameSet("alice2", 9),
                new RoomJoined("m9", 1, 2)));
    assertThat(s.exists()).isTrue();
    assertThat(s.level()).isEqualTo(2);
    assertThat(s.experience()).isEqualTo(150);
    assertThat(s.gold()).isEqualTo(20);
    assertThat(s.inventory()).containsEntry("gem", 3);
    assertThat(s.nickname()).isEqualTo("alice2");
    assertThat(s.room()).contains(new PlayerState.Seat("m9", 1, 2));
    assertThat(s.createdAt()).isEqualTo(T);
  }

  static PlayerEvent relation(String other, PlayerState.Relation r) {
    return new PlayerEvent.FriendshipChanged(other, r);
  }

  static PlayerCommand relate(String other, PlayerCommand.Relate.Action a) {
    return new PlayerCommand.Relate(other, a);
  }

  @Test
  void friendship_moves_from_request_to_friends_to_nothing() {
    var requested = relation("p2", PlayerState.Relation.REQUESTED);
    var friends = relation("p2", PlayerState.Relation.FRIENDS);
    given(CREATED).when(relate("p2", PlayerCommand.Relate.Action.SEND)).then(requested);
    given(CREATED)
        .when(relate("p2", PlayerCommand.Relate.Action.RECEIVE))
        .then(relation("p2", PlayerState.Relation.ASKED));
    given(CREATED, requested)
        .when(relate("p2", PlayerCommand.Relate.Action.ACCEPTED))
        .then(friends);
    given(CREATED, relation("p2", PlayerState.Relation.ASKED))
        .when(relate("p2", PlayerCommand.Relate.Action.DECLINE))
        .then(relation("p2", PlayerState.Relation.NONE));
    given(CREATED, requested, friends)
        .when(relate("p2", PlayerCommand.Relate.Action.REMOVE))
        .then(relation("p2", PlayerState.Relation.NONE));
    PlayerState state =
        Player.replay(PlayerState.initial("p1"), List.of(CREATED, requested, friends));
    assertThat(state.relationTo("p2")).isEqualTo(PlayerState.Relation.FRIENDS);
    state = Player.replay(state, List.of(relation("p2", PlayerState.Relation.NONE)));
    assertThat(state.relations()).isEmpty();
  }

  @Test
  void bad_friend_changes_are_refused() {
    var friends = relation("p2", PlayerState.Relation.FRIENDS);
    given(CREATED, friends)
        .when(relate("p2", PlayerCommand.Relate.Action.SEND))
        .rejected(PlayerRejected.Kind.CONFLICT, "already friends");
    given(CREATED, relation("p2", PlayerState.Relation.ASKED))
        .when(relate("p2", PlayerCommand.Relate.Action.SEND))
        .rejected(PlayerRejected.Kind.CONFLICT, "accept that request");
    given(CREATED)
        .when(relate("p2", PlayerCommand.Relate.Action.ACCEPT))
        .rejected(PlayerRejected.Kind.CONFLICT, "no friend request from p2");
    given(CREATED)
        .when(relate("p2", PlayerCommand.Relate.Action.REMOVE))
        .rejected(PlayerRejected.Kind.CONFLICT, "not friends");
    given(CREATED)
        .when(relate("p1", PlayerCommand.Relate.Action.SEND))
        .rejected(PlayerRejected.Kind.INVALID, "own friend");
  }

  /**
   * Requests from others have a bound of their own: counted with the player's own, 500 strangers'
   * requests left the player unable to ask anyone, or be asked.
   */
  @Test
  void requests_from_strangers_never_take_the_players_own_places() {
    PlayerEvent[] history = new PlayerEvent[1 + Player.MAX_WAITING_REQUESTS];
    history[0] = CREATED;
    for (int i = 1; i < history.length; i++) {
      history[i] = relation("stranger" + i, PlayerState.Relation.ASKED);
    }
    given(history)
        .when(relate("friend", PlayerCommand.Relate.Action.SEND))
        .then(relation("friend", PlayerState.Relation.REQUESTED));
    given(history)
        .when(relate("one-more", PlayerCommand.Relate.Action.RECEIVE))
        .rejected(PlayerRejected.Kind.CONFLICT, "requests waiting already");
    given(history)
        .when(relate("stranger1", PlayerCommand.Relate.Action.ACCEPT))
        .then(relation("stranger1", PlayerState.Relation.FRIENDS));
  }

  static final PlayerCommand.RatingRules RULES = new PlayerCommand.RatingRules(1200, 24, 48, 2);

  static PlayerCommand.RateMatch rate(String matchId, Outcome outcome, double expected) {
    return new PlayerCommand.RateMatch(matchId, "ranked", outcome, expected, RULES, 100, 300);
  }

  @Test
  void a_player_is_created_at_the_journals_precision_so_every_copy_agrees() {
    Instant at = Instant.parse("2026-12-04T10:00:00.123456789Z");
    List<PlayerEvent> created =
        Player.decide(new PlayerCommand.CreatePlayer("nick", at), PlayerState.initial("p1"));
    assertThat(created)
        .containsExactly(
            new PlayerEvent.PlayerCreated("p1", "nick", Instant.parse("2026-12-04T10:00:00.123Z")));
  }

  @Test
  void a_player_seated_in_the_rated_match_leaves_its_room_with_the_rating_and_no_other() {
    PlayerState s =
        Player.replay(
            PlayerState.initial("p1"), List.of(CREATED, new PlayerEvent.RoomJoined("m1", 3, 7)));
    PlayerState rated = Player.replay(s, Player.decide(rate("m1", Outcome.WIN, 0.5), s));
    assertThat(rated.room()).as("out of the rated match's room").isEmpty();
    assertThat(rated.hasLeft("m1")).isTrue();
    assertThat(Player.decide(new PlayerCommand.LeaveRoom("m1"), rated))
        .as("the seats' leave that follows the end finds nothing to do")
        .isEmpty();

    PlayerState elsewhere =
        Player.replay(
            PlayerState.initial("p1"), List.of(CREATED, new PlayerEvent.RoomJoined("m2", 3, 8)));
    PlayerState after =
        Player.replay(elsewhere, Player.decide(rate("m1", Outcome.WIN, 0.5), elsewhere));
    assertThat(after.room()).as("a seat in another match is kept").isPresent();
    assertThat(after.room().get().matchId()).isEqualTo("m2");
  }

  @Test
  void a_result_moves_the_rating_by_k_times_surprise_provisional_k_first_and_only_once() {
    PlayerState s = Player.replay(PlayerState.initial("p1"), List.of(CREATED));
    List<PlayerEvent> first = Player.decide(rate("m1", Outcome.WIN, 0.25), s);
    // provisional: 48 * (1 - 0.25) = 36
    assertThat(first)
        .as(
            "one event: rating, rewards and the leave (seated in the match or not: a late seat is"
                + " then refused)")
        .containsExactly(
            new PlayerEvent.MatchRated(
                "m1",
                "ranked",
                Outcome.WIN,
                1200,
                1236,
                1,
                100,
                300,
                Optional.of(new PlayerEvent.Settled(300, Player.levelFor(300), true))));
    s = Player.replay(s, first);
    assertThat(s.ratingIn("ranked", 1200)).isEqualTo(new PlayerState.Rating(1236, 1));
    assertThat(s.gold()).isEqualTo(100);
    assertThat(s.experience()).isEqualTo(300);
    assertThat(s.level()).isEqualTo(Player.levelFor(300)).isGreaterThan(1);
    assertThat(s.hasLeft("m1")).isTrue();
    assertThat(Player.decide(rate("m1", Outcome.WIN, 0.25), s)).as("rated already").isEmpty();

    s = Player.replay(s, Player.decide(rate("m2", Outcome.DRAW, 0.5), s));
    assertThat(s.ratingIn("ranked", 1200)).isEqualTo(new PlayerState.Rating(1236, 2));
    // Two games played: the ordinary K now. 24 * (0 - 0.75) = -18
    s = Player.replay(s, Player.decide(rate("m3", Outcome.LOSS, 0.75), s));
    assertThat(s.ratingIn("ranked", 1200)).isEqualTo(new PlayerState.Rating(1218, 3));
    assertThat(s.ratingIn("casual", 1200))
        .as("per queue")
        .isEqualTo(new PlayerState.Rating(1200, 0));
    assertThat(s.recentMatches())
        .extracting(PlayerEvent.MatchRated::matchId)
        .containsExactly("m1", "m2", "m3");
  }

  @Test
  void a_result_stored_in_the_older_form_replays_to_the_same_player() {
    PlayerState s =
        Player.replay(
            PlayerState.initial("p1"), List.of(CREATED, new PlayerEvent.RoomJoined("m1", 3, 7)));
    // Before 2026-12-06 a result was the rating followed by the rewards and the leave.
    PlayerState older =
        Player.replay(
            s,
            List.of(
                new PlayerEvent.MatchRated("m1", "ranked", Outcome.WIN, 1200, 1236, 1, 100, 300),
                new PlayerEvent.GoldEarned(100, "match m1"),
                new PlayerEvent.ExperienceGained(300, 300),
                new PlayerEvent.LeveledUp(2),
                new PlayerEvent.RoomLeft("m1")));
    PlayerState settled = Player.replay(s, Player.decide(rate("m1", Outcome.WIN, 0.25), s));
    assertThat(settled.gold()).isEqualTo(older.gold());
    assertThat(settled.experience()).isEqualTo(older.experience());
    assertThat(settled.level()).isEqualTo(older.level());
    assertThat(settled.room()).isEqualTo(older.room()).isEmpty();
    assertThat(settled.hasLeft("m1")).isEqualTo(older.hasLeft("m1")).isTrue();
    assertThat(settled.ratingIn("ranked", 1200)).isEqualTo(older.ratingIn("ranked", 1200));
  }

  @Test
  void a_result_with_bad_parts_is_refused() {
    PlayerState s = Player.replay(PlayerState.initial("p1"), List.of(CREATED));
    assertThatThrownBy(() -> Player.decide(rate("m 1", Outcome.WIN, 0.5), s))
        .isInstanceOf(PlayerRejected.class);
    assertThatThrownBy(() -> Player.decide(rate("m1", Outcome.WIN, 1.5), s))
        .isInstanceOf(PlayerRejected.class);
    assertThatThrownBy(
            () ->
                Player.decide(
                    new PlayerCommand.RateMatch("m1", "ranked", Outcome.WIN, 0.5, RULES, -1, 0), s))
        .isInstanceOf(PlayerRejected.class);
  }
}
