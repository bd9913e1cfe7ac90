package dev.citadel.gamestate.storage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.EventData;
import dev.citadel.gamestate.player.Outcome;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import java.io.IOException;
import java.io.InputStream;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class PlayerCodecTest {
  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");

  /** One of every event type, as version 1 wrote them into src/test/resources/fixtures. */
  static final Map<String, PlayerEvent> V1 =
      Map.ofEntries(
          Map.entry("PlayerCreated", new PlayerEvent.PlayerCreated("p1", "alice", T)),
          Map.entry("ExperienceGained", new PlayerEvent.ExperienceGained(450, 1450)),
          Map.entry("LeveledUp", new PlayerEvent.LeveledUp(4)),
          Map.entry("GoldEarned", new PlayerEvent.GoldEarned(100, "quest")),
          Map.entry("GoldSpent", new PlayerEvent.GoldSpent(60, "shop")),
          Map.entry("ItemAdded", new PlayerEvent.ItemAdded("sword", 2)),
          Map.entry("ItemRemoved", new PlayerEvent.ItemRemoved("sword", 1)),
          Map.entry("NicknameSet", new PlayerEvent.NicknameSet("bob", 0)),
          Map.entry("RoomJoined", new PlayerEvent.RoomJoined("m1", 3, 7)),
          Map.entry("RoomLeft", new PlayerEvent.RoomLeft("m1")),
          Map.entry(
              "FriendshipChanged",
              new PlayerEvent.FriendshipChanged("p2", PlayerState.Relation.FRIENDS)));

  static final PlayerState SNAPSHOT_V1 =
      new PlayerState(
          "p1",
          true,
          "alice",
          0,
          4,
          1450,
          40,
          Map.of("sword", 1, "gem", 3),
          Optional.of(new PlayerState.Seat("m1", 3, 7)),
          T,
          Map.of(),
          Map.of(),
          java.util.List.of(),
          java.util.List.of());

  /** Events added after version 1 (no old bytes to load). */
  static final Map<String, PlayerEvent> ADDED =
      Map.of(
          "MatchRated",
          new PlayerEvent.MatchRated("m9", "ranked", Outcome.DRAW, 1200, 1216, 1, 50, 100));

  @Test
  void every_event_type_round_trips() {
    List<PlayerEvent> all = new java.util.ArrayList<>(V1.values());
    all.addAll(ADDED.values());
    for (PlayerEvent event : all) {
      EventData data = PlayerCodec.encode(event);
      assertThat(data.type()).startsWith("citadel.player.v1.");
      assertThat(PlayerCodec.decode(data.type(), data.payload())).isEqualTo(event);
    }
    assertThat(all).hasSize(PlayerEvent.class.getPermittedSubclasses().length);
    // A field added to an event since version 1: the rename's place in the account's stream.
    PlayerEvent placed = new PlayerEvent.NicknameSet("bob", 7);
    EventData placedData = PlayerCodec.encode(placed);
    assertThat(PlayerCodec.decode(placedData.type(), placedData.payload())).isEqualTo(placed);
  }

  @Test
  void a_settled_result_round_trips_and_the_older_form_stays_unsettled() {
    var settled =
        new PlayerEvent.MatchRated(
            "m9",
            "ranked",
            Outcome.WIN,
            1200,
            1224,
            2,
            50,
            100,
            Optional.of(new PlayerEvent.Settled(1_100, 4, true)));
    EventData data = PlayerCodec.encode(settled);
    assertThat(data.type())
        .as("its own type: an older instance refuses it rather than reading a rating alone")
        .isEqualTo("citadel.player.v1.MatchSettled");
    assertThat(PlayerCodec.decode(data.type(), data.payload())).isEqualTo(settled);

    var older = ADDED.get("MatchRated");
    EventData olderData = PlayerCodec.encode(older);
    assertThat(olderData.type()).isEqualTo("citadel.player.v1.MatchRated");
    assertThat(PlayerCodec.decode(olderData.type(), olderData.payload()))
        .isEqualTo(older)
        .extracting(e -> ((PlayerEvent.MatchRated) e).settled())
        .isEqualTo(Optional.empty());
  }

  @Test
  void bytes_written_by_version_1_still_load() throws IOException {
    for (Map.Entry<String, PlayerEvent> e : V1.entrySet()) {
      byte[] old = fixture("fixtures/player/v1/" + e.getKey() + ".bin");
      assertThat(PlayerCodec.decode("citadel.player.v1." + e.getKey(), old))
          .as(e.getKey())
          .isEqualTo(e.getValue());
    }
    assertThat(PlayerCodec.restore(fixture("fixtures/player/v1/PlayerSnapshot.bin")))
        .isEqualTo(SNAPSHOT_V1);
  }

  @Test
  void the_snapshot_round_trips_with_and_without_a_room() {
    assertThat(PlayerCodec.restore(PlayerCodec.snapshot(SNAPSHOT_V1))).isEqualTo(SNAPSHOT_V1);
    PlayerState noRoom =
        new PlayerState(
            "p2",
            true,
            "bob",
            7,
            1,
            0,
            0,
            Map.of(),
            Optional.empty(),
            T,
            Map.of(),
            Map.of(),
            java.util.List.of(),
            java.util.List.of());
    assertThat(PlayerCodec.restore(PlayerCodec.snapshot(noRoom))).isEqualTo(noRoom);
    PlayerState leftTwo = noRoom.leaving("m1").leaving("m2");
    assertThat(PlayerCodec.restore(PlayerCodec.snapshot(leftTwo))).isEqualTo(leftTwo);
    PlayerState withFriends =
        SNAPSHOT_V1.withRelations(
            Map.of("p2", PlayerState.Relation.FRIENDS, "p3", PlayerState.Relation.ASKED));
    assertThat(PlayerCodec.restore(PlayerCodec.snapshot(withFriends))).isEqualTo(withFriends);
    PlayerState rated =
        Player.evolve(
            Player.evolve(SNAPSHOT_V1, ADDED.get("MatchRated")),
            new PlayerEvent.MatchRated("m10", "casual", Outcome.WIN, 1200, 1240, 1, 0, 0));
    assertThat(rated.ratings()).hasSize(2);
    assertThat(PlayerCodec.restore(PlayerCodec.snapshot(rated))).isEqualTo(rated);
  }

  @Test
  void unknown_types_are_refused_clearly() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> PlayerCodec.decode("citadel.player.v9.Nope", new byte[0]))
        .hasMessageContaining("unknown player event type");
  }

  static byte[] fixture(String path) throws IOException {
    try (InputStream in = PlayerCodecTest.class.getClassLoader().getResourceAsStream(path)) {
      assertThat(in).as(path).isNotNull();
      return in.readAllBytes();
    }
  }

  /** Writes the fixtures; run once per protocol version, then commit the files. */
  public static void main(String[] args) throws IOException {
    java.nio.file.Path dir = java.nio.file.Path.of(args[0]);
    java.nio.file.Files.createDirectories(dir);
    for (Map.Entry<String, PlayerEvent> e : V1.entrySet()) {
      java.nio.file.Files.write(
          dir.resolve(e.getKey() + ".bin"), PlayerCodec.encode(e.getValue()).payload());
    }
    java.nio.file.Files.write(dir.resolve("PlayerSnapshot.bin"), PlayerCodec.snapshot(SNAPSHOT_V1));
    List.of(dir).forEach(d -> System.out.println("wrote fixtures to " + d));
  }

  @Test
  void relations_are_stored_by_their_proto_number_not_the_java_order() {
    for (PlayerState.Relation r : PlayerState.Relation.values()) {
      assertThat(PlayerCodec.relation(PlayerCodec.wire(r).getNumber())).isEqualTo(r);
      assertThat(PlayerCodec.wire(r).name()).isEqualTo("RELATION_" + r.name());
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> PlayerCodec.relation(9))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
