package dev.citadel.gamestate.rooms;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

@CitadelInfra
class RoomAllocatorTest {
  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  static PostgresEndpoint db;

  @BeforeAll
  static void migrate() {
    db = SharedInfra.postgresDatabase("gamestate_rooms_test");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
  }

  /** An allocator as one game-state instance has it, with its own store and cache. */
  static RoomAllocator instance(int channels, int rooms) {
    return instance(db, channels, rooms);
  }

  static RoomAllocator instance(PostgresEndpoint db, int channels, int rooms) {
    return new RoomAllocator(
        new PostgresEventStore(
            Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), 4),
            EventStoreOptions.defaults()),
        channels,
        rooms);
  }

  static String match() {
    return "m-" + UUID.randomUUID();
  }

  static Optional<Placement> room(RoomAllocator.Outcome o) {
    if (o instanceof RoomAllocator.Outcome.Placed p) {
      return Optional.of(p.placement());
    }
    if (o instanceof RoomAllocator.Outcome.Over over) {
      return Optional.of(over.placement());
    }
    return Optional.empty();
  }

  /** One channel of two rooms (room 0 of channel 0 is reserved: one usable), its own database. */
  static RoomAllocator oneRoom(String database) {
    PostgresEndpoint own = SharedInfra.postgresDatabase(database);
    EventStoreSchema.migrate(own.jdbcUrl(), own.username(), own.password());
    return instance(own, 1, 2);
  }

  @Test
  void a_cancel_that_comes_first_wins_and_the_match_is_never_placed() {
    var a = oneRoom("gamestate_rooms_cancel_first_test");
    String id = match();

    assertThat(a.cancel(id, "ranked", "cancelled", T).block())
        .isEqualTo(new RoomAllocator.Outcome.Refused("cancelled"));
    // match.found arrives after its cancel (another replica's producer was slower): refused.
    assertThat(a.place(id, List.of("p1"), T).block()).isEmpty();
    assertThat(a.placeAll(List.of(new RoomAllocator.Request(id, List.of("p1"))), T).block())
        .containsExactly(new RoomAllocator.Outcome.Refused("cancelled"));
    assertThat(a.status(id).block()).as("not in a room").isEmpty();
    assertThat(a.end(id, T).block()).as("nothing to end").isEmpty();
    assertThat(a.place(match(), List.of("p2"), T).block())
        .as("the only room is still free")
        .isPresent();
  }

  @Test
  void a_cancel_that_comes_after_the_placement_loses_and_answers_the_room() {
    var a = instance(100, 1000);
    String id = match();
    Placement placed = a.place(id, List.of("p1"), T).block().orElseThrow();

    assertThat(a.cancel(id, "ranked", "cancelled", T).block())
        .isEqualTo(new RoomAllocator.Outcome.Placed(placed));
    assertThat(instance(100, 1000).cancel(id, "ranked", "cancelled", T).block())
        .isEqualTo(new RoomAllocator.Outcome.Placed(placed));
  }

  @Test
  void a_cancel_and_a_placement_racing_on_two_instances_agree_on_one_outcome() {
    for (int i = 0; i < 20; i++) {
      var a = instance(100, 1000);
      var b = instance(100, 1000);
      String id = match();
      List<RoomAllocator.Outcome> both =
          Flux.merge(
                  a.placeAll(List.of(new RoomAllocator.Request(id, List.of("p1"))), T)
                      .map(l -> l.get(0)),
                  b.cancel(id, "ranked", "cancelled", T))
              .collectList()
              .block();
      assertThat(both).hasSize(2);
      assertThat(both.get(0)).isEqualTo(both.get(1));
    }
  }

  @Test
  void a_match_refused_for_want_of_a_room_stays_refused_after_a_room_frees() {
    var a = oneRoom("gamestate_rooms_refused_test");
    String first = match();
    String second = match();
    a.place(first, List.of("p1"), T).block().orElseThrow();
    assertThat(a.place(second, List.of("p2"), T).block()).as("no room").isEmpty();
    a.end(first, T).block().orElseThrow();

    // Its players were requeued: a redelivered match.found must not place it now.
    assertThat(a.placeAll(List.of(new RoomAllocator.Request(second, List.of("p2"))), T).block())
        .containsExactly(new RoomAllocator.Outcome.Refused(RoomAllocator.NO_ROOM));
    assertThat(a.place(match(), List.of("p3"), T).block()).as("the freed room").isPresent();
  }

  /**
   * A channel is read from its newest snapshot and the events after it: an instance starting fresh
   * sees exactly the rooms in use. Until 2026-12-08 every instance read a channel's whole history,
   * two events for every game ever played in it.
   */
  @Test
  void a_fresh_instance_reads_a_channel_from_its_snapshot() {
    PostgresEndpoint own = SharedInfra.postgresDatabase("gamestate_rooms_snapshot_test");
    EventStoreSchema.migrate(own.jdbcUrl(), own.username(), own.password());
    java.util.function.Supplier<PostgresEventStore> store =
        () ->
            new PostgresEventStore(
                Connections.pool(
                    own.host(), own.port(), own.database(), own.username(), own.password(), 4),
                EventStoreOptions.defaults()
                    .withPolicy(RoomAllocator.CHANNEL_TYPE, RoomAllocator.CHANNEL_SNAPSHOTS));
    RoomAllocator a = new RoomAllocator(store.get(), 1, 4, 4); // three usable rooms
    Placement kept = a.place(match(), List.of("p0"), T).block().orElseThrow();
    Placement alsoKept = a.place(match(), List.of("p1"), T).block().orElseThrow();
    for (int game = 0; game < 12; game++) {
      String id = match();
      a.place(id, List.of("p" + game), T).block().orElseThrow();
      a.end(id, T).block().orElseThrow();
    }
    // 26 events; a snapshot every 4 or more (saved in the background), none of them cut.
    PostgresEventStore reader = store.get();
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(
            () -> {
              var loaded = reader.load(RoomAllocator.channelStream(0)).block();
              return loaded.snapshot().isPresent() && loaded.events().size() < 4;
            });
    assertThat(reader.readStream(RoomAllocator.channelStream(0)).count().block())
        .as("the history is kept (the release before reads it whole)")
        .isEqualTo(26);

    RoomAllocator fresh = new RoomAllocator(store.get(), 1, 4, 4);
    Placement third = fresh.place(match(), List.of("p2"), T).block().orElseThrow();
    assertThat(third.room()).as("the one room free").isNotIn(kept.room(), alsoKept.room());
    assertThat(fresh.place(match(), List.of("p3"), T).block()).as("every room taken").isEmpty();
  }

  @Test
  void an_instance_whose_copy_fell_behind_reads_on_from_it_and_sees_rooms_taken_and_freed() {
    PostgresEndpoint own = SharedInfra.postgresDatabase("gamestate_rooms_behind_test");
    EventStoreSchema.migrate(own.jdbcUrl(), own.username(), own.password());
    var a = instance(own, 1, 4); // three usable rooms
    var b = instance(own, 1, 4);
    String m1 = match();
    Placement first = a.place(m1, List.of("p1"), T).block().orElseThrow();
    // b takes the two other rooms and ends a's game: a's copy still shows only m1's room taken.
    Placement second = b.place(match(), List.of("p2"), T).block().orElseThrow();
    Placement third = b.place(match(), List.of("p3"), T).block().orElseThrow();
    b.end(m1, T).block().orElseThrow();

    Placement fourth = a.place(match(), List.of("p4"), T).block().orElseThrow();
    assertThat(fourth.room()).as("the only free room: the one b freed").isEqualTo(first.room());
    assertThat(List.of(second.room(), third.room(), fourth.room())).doesNotHaveDuplicates();
    assertThat(a.place(match(), List.of("p5"), T).block()).as("every room taken").isEmpty();
  }

  @Test
  void an_instance_whose_copy_says_every_room_is_taken_reads_again_before_it_refuses() {
    var a = oneRoom("gamestate_rooms_stale_test");
    String first = match();
    a.place(first, List.of("p1"), T).block().orElseThrow();
    // Another instance ends that game: a's copy of the channel still shows its only room taken.
    var b = instance(SharedInfra.postgresDatabase("gamestate_rooms_stale_test"), 1, 2);
    b.end(first, T).block().orElseThrow();

    assertThat(a.place(match(), List.of("p2"), T).block()).as("placed, not refused").isPresent();
    a.end(first, T).block();
    var c = instance(SharedInfra.postgresDatabase("gamestate_rooms_stale_test"), 1, 2);
    String third = match();
    assertThat(c.placeAll(List.of(new RoomAllocator.Request(third, List.of("p3"))), T).block())
        .as("full now")
        .containsExactly(new RoomAllocator.Outcome.Refused(RoomAllocator.NO_ROOM));
  }

  /**
   * Rooms freed by another instance twice within a second: both searches that come up short read
   * the channels on before refusing. The second used to be refused for good (a reload at most once
   * a second) while a room was free.
   */
  @Test
  void every_search_that_comes_up_short_reads_on_before_it_refuses() {
    var a = oneRoom("gamestate_rooms_twice_test");
    var b = instance(SharedInfra.postgresDatabase("gamestate_rooms_twice_test"), 1, 2);
    for (int game = 0; game < 3; game++) {
      String playing = match();
      a.place(playing, List.of("p" + game), T).block().orElseThrow();
      b.end(playing, T).block().orElseThrow(); // freed where a's copy cannot see it
    }
    String next = match();
    assertThat(a.placeAll(List.of(new RoomAllocator.Request(next, List.of("p9"))), T).block())
        .singleElement()
        .isInstanceOf(RoomAllocator.Outcome.Placed.class);
  }

  @Test
  void a_match_found_again_after_its_game_ended_is_over() {
    var a = instance(100, 1000);
    String id = match();
    Placement placed = a.place(id, List.of("p1"), T).block().orElseThrow();
    a.end(id, T).block().orElseThrow();

    assertThat(a.placeAll(List.of(new RoomAllocator.Request(id, List.of("p1"))), T).block())
        .containsExactly(new RoomAllocator.Outcome.Over(placed));
    assertThat(a.cancel(id, "ranked", "cancelled", T).block())
        .isEqualTo(new RoomAllocator.Outcome.Over(placed));
  }

  @Test
  void the_same_match_delivered_twice_gets_the_same_room() {
    var a = instance(100, 1000);
    String id = match();
    Placement first = a.place(id, List.of("p1", "p2"), T).block().orElseThrow();
    Placement again = a.place(id, List.of("p1", "p2"), T).block().orElseThrow();
    Placement elsewhere =
        instance(100, 1000).place(id, List.of("p1", "p2"), T).block().orElseThrow();
    assertThat(again).isEqualTo(first);
    assertThat(elsewhere).isEqualTo(first);
  }

  @Test
  void ending_a_game_frees_its_room_once_and_a_full_channel_can_place_again() {
    // Its own database: one channel of two rooms (room 0 of channel 0 is reserved: one usable).
    PostgresEndpoint own = SharedInfra.postgresDatabase("gamestate_rooms_end_test");
    EventStoreSchema.migrate(own.jdbcUrl(), own.username(), own.password());
    var a = instance(own, 1, 2);
    String first = match();
    Placement placed =
        room(a.placeAll(List.of(new RoomAllocator.Request(first, List.of("p1", "p2"), "ranked")), T)
                .block()
                .get(0))
            .orElseThrow();
    assertThat(a.place(match(), List.of("p3"), T).block()).as("every room taken").isEmpty();
    assertThat(a.status(first).block())
        .contains(
            new RoomAllocator.Status(
                first,
                "ranked",
                placed.channel(),
                placed.room(),
                List.of("p1", "p2"),
                List.of(),
                T.truncatedTo(java.time.temporal.ChronoUnit.MILLIS),
                java.util.Optional.empty(),
                1L));

    RoomAllocator.Ended ended = a.end(first, T).block().orElseThrow();
    assertThat(a.status(first).block().orElseThrow().ended()).isTrue();
    assertThat(a.status(match()).block()).as("never placed").isEmpty();

    assertThat(ended)
        .isEqualTo(
            new RoomAllocator.Ended(
                first,
                "ranked",
                placed.channel(),
                placed.room(),
                List.of("p1", "p2"),
                dev.citadel.protocol.match.v1.Result.RESULT_NONE,
                java.util.Map.of(),
                true));
    // Again: the same end, found written before (not by this call).
    RoomAllocator.Ended found =
        new RoomAllocator.Ended(
            first,
            "ranked",
            placed.channel(),
            placed.room(),
            List.of("p1", "p2"),
            dev.citadel.protocol.match.v1.Result.RESULT_NONE,
            java.util.Map.of(),
            false);
    assertThat(a.end(first, T).block()).as("ending again answers the same").contains(found);
    assertThat(
            a.end(first, T, dev.citadel.protocol.match.v1.Result.RESULT_DRAW).block().orElseThrow())
        .as("ending again with a result answers the end that was recorded")
        .isEqualTo(found);
    assertThat(instance(own, 1, 2).end(first, T).block()).contains(found);
    Placement next = instance(own, 1, 2).place(match(), List.of("p4"), T).block().orElseThrow();
    assertThat(next.room()).as("the freed room is used again").isEqualTo(placed.room());
    assertThat(a.place(match(), List.of("p5"), T).block())
        .as("freed once, so only one more match fits")
        .isEmpty();
    assertThat(a.end(match(), T).block()).as("never placed").isEmpty();
  }

  /** Two instances on one channel of three rooms (two usable), both taken: {@code match} one. */
  record TwoOnOneChannel(RoomAllocator a, RoomAllocator b, String match) {}

  static TwoOnOneChannel twoOnOneChannel(String database) {
    PostgresEndpoint own = SharedInfra.postgresDatabase(database);
    EventStoreSchema.migrate(own.jdbcUrl(), own.username(), own.password());
    var a = instance(own, 1, 3);
    var b = instance(own, 1, 3);
    String id = match();
    a.place(id, List.of("p1"), T).block().orElseThrow();
    a.place(match(), List.of("p2"), T).block().orElseThrow();
    return new TwoOnOneChannel(a, b, id);
  }

  @Test
  void an_end_from_a_status_read_before_another_end_answers_that_end_and_frees_the_room_once() {
    TwoOnOneChannel two = twoOnOneChannel("gamestate_rooms_stale_status_test");
    var a = two.a();
    var b = two.b();
    String id = two.match();
    RoomAllocator.Status read = a.status(id).block().orElseThrow();
    RoomAllocator.Ended first =
        b.end(id, T, dev.citadel.protocol.match.v1.Result.RESULT_TEAM_0_WON).block().orElseThrow();

    RoomAllocator.Ended late =
        a.end(read, T, dev.citadel.protocol.match.v1.Result.RESULT_TEAM_1_WON, java.util.Map.of())
            .block()
            .orElseThrow();

    assertThat(late)
        .as("the end recorded first, read again")
        .usingRecursiveComparison()
        .ignoringFields("endedNow")
        .isEqualTo(first);
    assertThat(first.endedNow()).isTrue();
    assertThat(late.endedNow()).as("found written by the other: not this call's end").isFalse();
    assertThat(late.result()).isEqualTo(dev.citadel.protocol.match.v1.Result.RESULT_TEAM_0_WON);
    assertThat(a.status(id).block().orElseThrow().version())
        .as("one end in the stream")
        .isEqualTo(2);
    assertThat(b.place(match(), List.of("p3"), T).block()).isPresent();
    assertThat(a.place(match(), List.of("p4"), T).block()).as("freed once").isEmpty();
  }

  @Test
  void two_instances_ending_the_same_game_at_once_free_its_room_once() {
    TwoOnOneChannel two = twoOnOneChannel("gamestate_rooms_end_race_test");
    var a = two.a();
    var b = two.b();
    String id = two.match();

    List<RoomAllocator.Ended> both =
        Flux.just(a, b).flatMap(r -> r.end(id, T)).map(Optional::orElseThrow).collectList().block();

    assertThat(both).hasSize(2);
    assertThat(both.get(0))
        .usingRecursiveComparison()
        .ignoringFields("endedNow")
        .isEqualTo(both.get(1));
    assertThat(both)
        .as("one of them wrote the end")
        .filteredOn(RoomAllocator.Ended::endedNow)
        .hasSize(1);
    // Two rooms usable, one still taken: exactly one more match fits.
    assertThat(b.place(match(), List.of("p3"), T).block()).isPresent();
    assertThat(a.place(match(), List.of("p4"), T).block()).isEmpty();
  }

  @Test
  void two_instances_placing_concurrently_never_share_a_room_or_place_a_match_twice() {
    var a = instance(3, 50);
    var b = instance(3, 50);
    List<String> matches = IntStream.range(0, 60).mapToObj(i -> match()).toList();
    // Every match is delivered to both instances at once (a rebalance, a redelivery).
    List<Placement> placements =
        Flux.fromIterable(matches)
            .flatMap(
                id ->
                    Flux.just(a, b)
                        .flatMap(alloc -> alloc.place(id, List.of(id + "-p"), T))
                        .map(Optional::orElseThrow),
                8)
            .collectList()
            .block();
    assertThat(placements).hasSize(120);
    Set<String> rooms = new HashSet<>();
    for (String id : matches) {
      List<Placement> of = placements.stream().filter(p -> p.matchId().equals(id)).toList();
      assertThat(of).hasSize(2);
      assertThat(of.get(0)).isEqualTo(of.get(1));
      assertThat(rooms.add(of.get(0).channel() + "/" + of.get(0).room())).isTrue();
    }
    assertThat(rooms).doesNotContain("0/0");
  }

  @Test
  void batches_placed_by_two_instances_at_once_share_no_room_and_repeat_no_match() {
    // Its own database: the rooms it fills would otherwise be missing in the other tests.
    PostgresEndpoint own = SharedInfra.postgresDatabase("gamestate_rooms_batch_test");
    EventStoreSchema.migrate(own.jdbcUrl(), own.username(), own.password());
    var a = instance(own, 20, 200);
    var b = instance(own, 20, 200);
    List<List<RoomAllocator.Request>> batches =
        IntStream.range(0, 24)
            .mapToObj(
                i -> {
                  List<RoomAllocator.Request> batch =
                      new java.util.ArrayList<>(
                          IntStream.range(0, 25)
                              .mapToObj(j -> match())
                              .map(id -> new RoomAllocator.Request(id, List.of(id + "-p")))
                              .toList());
                  batch.add(batch.get(3)); // the same match twice in one batch (a re-send)
                  return batch;
                })
            .toList();
    // Every batch goes to both instances at once, and half of them a third time, match by match.
    List<Placement> placements =
        Flux.fromIterable(batches)
            .flatMap(
                batch ->
                    Flux.merge(
                        a.placeAll(batch, T).flatMapIterable(l -> l).map(RoomAllocatorTest::room),
                        b.placeAll(batch, T).flatMapIterable(l -> l).map(RoomAllocatorTest::room),
                        Flux.fromIterable(batch.subList(0, batch.size() / 2))
                            .flatMap(r -> a.place(r.matchId(), r.players(), T))),
                4)
            .map(Optional::orElseThrow)
            .collectList()
            .block();

    java.util.Map<String, Set<Placement>> byMatch = new java.util.HashMap<>();
    placements.forEach(p -> byMatch.computeIfAbsent(p.matchId(), k -> new HashSet<>()).add(p));
    assertThat(byMatch).hasSize(24 * 25);
    assertThat(byMatch.values()).allSatisfy(set -> assertThat(set).hasSize(1));
    Set<String> rooms = new HashSet<>();
    byMatch
        .values()
        .forEach(
            set -> {
              Placement p = set.iterator().next();
              assertThat(rooms.add(p.channel() + "/" + p.room())).as("room %s", p).isTrue();
            });
    assertThat(rooms).doesNotContain("0/0");
  }

  @Test
  void a_batch_larger_than_the_free_rooms_places_what_fits_and_rejects_the_rest() {
    var alloc = instance(1, 3); // channel 0 only: rooms 1 and 2, maybe taken by other tests
    var batch =
        IntStream.range(0, 4)
            .mapToObj(i -> new RoomAllocator.Request(match(), List.of("p")))
            .toList();
    List<RoomAllocator.Outcome> result = alloc.placeAll(batch, T).block();
    assertThat(result).hasSize(4);
    assertThat(result.stream().filter(o -> o instanceof RoomAllocator.Outcome.Placed).count())
        .isLessThanOrEqualTo(2);
    assertThat(result.get(3)).isEqualTo(new RoomAllocator.Outcome.Refused(RoomAllocator.NO_ROOM));
    assertThat(alloc.placeAll(batch, T).block()).isEqualTo(result); // stable when re-delivered
  }

  @Test
  void when_every_room_is_taken_the_match_is_rejected() {
    // Fresh channels: a fixed database would keep rooms from other tests, so use many channels
    // and take them all.
    var alloc = instance(1, 3); // channel 0 only: room 0 reserved, rooms 1 and 2 free
    String prefix = "exhaust-" + UUID.randomUUID();
    // channel-0 may already hold rooms from other tests in this database: fill what is left.
    int placed = 0;
    while (alloc.place(prefix + "-" + placed, List.of("p"), T).block().isPresent()) {
      placed++;
      assertThat(placed).isLessThanOrEqualTo(2);
    }
    assertThat(alloc.place(prefix + "-last", List.of("p"), T).block()).isEmpty();
  }
}
