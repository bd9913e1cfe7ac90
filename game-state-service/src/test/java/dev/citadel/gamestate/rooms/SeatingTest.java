package dev.citadel.gamestate.rooms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.HostOptions;
import dev.citadel.gamestate.player.Outcome;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.storage.PlayerCodec;
import dev.citadel.gamestate.testing.OpenedPools;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import dev.citadel.protocol.match.v1.MatchEnded;
import dev.citadel.protocol.match.v1.MatchPlaced;
import dev.citadel.protocol.match.v1.Result;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.pool.ConnectionPool;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.test.StepVerifier;

/**
 * Players' seats following the match streams from the journal's outbox topic, against real
 * PostgreSQL and Kafka.
 */
@CitadelInfra
class SeatingTest {
  @RegisterExtension static final OpenedPools POOLS = new OpenedPools();

  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  static final String ENDED_TOPIC = "match.ended.seating-test";
  static PostgresEndpoint db;
  static ReactorKafkaPublisher publisher;

  @BeforeAll
  static void migrate() {
    db = SharedInfra.postgresDatabase("gamestate_seating_test");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    KafkaSettings settings =
        KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "seating-test");
    KafkaTopics.ensure(settings, List.of(ENDED_TOPIC));
    publisher = new ReactorKafkaPublisher(settings);
  }

  @AfterAll
  static void close() {
    publisher.close();
  }

  record Instance(
      ConnectionPool pool,
      PostgresEventStore store,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      RoomAllocator allocator,
      MatchRooms rooms,
      SimpleMeterRegistry meters) {
    double recoveries() {
      return meters.get("citadel_aggregate_recoveries").counter().count();
    }
  }

  static Instance instance() {
    return instance(MatchSeats.RATED_WITHIN);
  }

  static Instance instance(java.time.Duration ratedWithin) {
    ConnectionPool pool = POOLS.open(db, 4);
    PostgresEventStore store = new PostgresEventStore(pool, EventStoreOptions.defaults());
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    var players =
        new AggregateHost<>(
            new PlayerAggregate(),
            store,
            SnapshotPolicy.DEFAULT,
            HostOptions.defaults(),
            List.of(),
            meters,
            System::nanoTime);
    RoomAllocator allocator = new RoomAllocator(store, 4, 10);
    MatchRooms rooms =
        new MatchRooms(
            allocator,
            publisher,
            players,
            Clock.fixed(T, ZoneOffset.UTC),
            "match.found",
            "match.room-assigned",
            "match.rejected",
            ENDED_TOPIC,
            "game.events",
            ratedWithin,
            meters);
    return new Instance(pool, store, players, allocator, rooms, meters);
  }

  /** {@code MatchPlaced} as the outbox publishes it. */
  static IncomingMessage placed(String matchId, int channel, int room, String... players) {
    MatchPlaced placed =
        MatchPlaced.newBuilder()
            .setMatchId(matchId)
            .setQueue("ranked")
            .setChannel(channel)
            .setRoom(room)
            .addAllPlayerIds(List.of(players))
            .build();
    return journal(matchId, 1, MatchPlaced.getDescriptor().getFullName(), placed.toByteArray());
  }

  /** {@code MatchEnded} as the outbox publishes it. */
  static IncomingMessage ended(String matchId, String... players) {
    return ended(matchId, Result.RESULT_NONE, players);
  }

  /** The same, with a result. */
  static IncomingMessage ended(String matchId, Result result, String... players) {
    MatchEnded ended =
        MatchEnded.newBuilder()
            .setMatchId(matchId)
            .setQueue("ranked")
            .setResult(result)
            .addAllPlayerIds(List.of(players))
            .build();
    return journal(matchId, 2, MatchEnded.getDescriptor().getFullName(), ended.toByteArray());
  }

  static IncomingMessage journal(String matchId, long seq, String type, byte[] payload) {
    String stream = RoomAllocator.stream(matchId);
    EventEnvelope envelope =
        EventEnvelope.newBuilder()
            .setAggregateType(RoomAllocator.MATCH_TYPE)
            .setAggregateId(stream)
            .setSeq(seq)
            .setEventType(type)
            .setPayload(com.google.protobuf.ByteString.copyFrom(payload))
            .build();
    return new IncomingMessage(
        "game.events",
        0,
        seq,
        stream,
        envelope.toByteArray(),
        Map.of("event-type", type, "seq", Long.toString(seq)));
  }

  static String create(Instance i, String nickname) {
    String id = "p-" + UUID.randomUUID();
    i.players().handle(id, new PlayerCommand.CreatePlayer(nickname, T), T).block();
    return id;
  }

  @Test
  void players_with_game_state_are_seated_and_players_without_are_skipped_without_a_recovery() {
    Instance i = instance();
    String alice = create(i, "alice");
    String bob = create(i, "bob");
    String ghost = "p-" + UUID.randomUUID(); // queued in bulk, never created
    double recoveriesBefore = i.recoveries();

    StepVerifier.create(
            i.rooms()
                .follow(
                    List.of(placed("ranked-1", 2, 7, alice, ghost), placed("ranked-2", 3, 1, bob))))
        .verifyComplete();

    assertThat(i.players().get(alice).block().state().room())
        .contains(new PlayerState.Seat("ranked-1", 2, 7));
    assertThat(i.players().get(bob).block().state().room())
        .contains(new PlayerState.Seat("ranked-2", 3, 1));
    assertThat(i.recoveries()).as("nobody was recovered to learn that").isEqualTo(recoveriesBefore);
    assertThat(i.store().versions(List.of(ghost)).block())
        .as("nothing written for the ghost")
        .isEmpty();
  }

  @Test
  void other_events_of_the_journal_are_skipped() {
    Instance i = instance();
    String alice = create(i, "alice");
    IncomingMessage playerEvent =
        journal(alice, 2, "citadel.player.v1.GoldEarned", new byte[] {1, 2, 3});

    StepVerifier.create(i.rooms().follow(List.of(playerEvent))).verifyComplete();
  }

  @Test
  void a_redelivered_batch_seats_once() {
    Instance i = instance();
    String alice = create(i, "alice");
    List<IncomingMessage> batch = List.of(placed("ranked-3", 1, 4, alice));

    i.rooms().follow(batch).block();
    i.rooms().follow(batch).block();

    assertThat(history(i, alice)).filteredOn(e -> e instanceof PlayerEvent.RoomJoined).hasSize(1);
  }

  @Test
  void when_a_game_ends_its_players_leave_the_room_and_a_redelivery_changes_nothing() {
    Instance i = instance();
    String alice = create(i, "alice");
    String ghost = "p-" + UUID.randomUUID();
    i.rooms().follow(List.of(placed("ranked-5", 1, 6, alice, ghost))).block();
    List<IncomingMessage> ended = List.of(ended("ranked-5", alice, ghost));

    StepVerifier.create(i.rooms().follow(ended)).verifyComplete();
    long version = i.players().get(alice).block().version();
    i.rooms().follow(ended).block();

    assertThat(i.players().get(alice).block().state().room()).isEmpty();
    assertThat(i.players().get(alice).block().version()).as("left once").isEqualTo(version);
    assertThat(i.store().versions(List.of(ghost)).block()).isEmpty();
  }

  @Test
  void an_end_with_a_result_leaves_its_players_to_the_rating_and_takes_them_out_if_none_comes() {
    Instance i = instance(java.time.Duration.ofSeconds(1));
    String alice = create(i, "alice");
    String id = "ranked-" + UUID.randomUUID();
    i.rooms().follow(List.of(placed(id, 1, 7, alice))).block();

    i.rooms().follow(List.of(ended(id, Result.RESULT_TEAM_0_WON, alice))).block();
    assertThat(i.players().get(alice).block().state().room())
        .as("left to the result's rating transaction, not raced")
        .isPresent();

    await()
        .atMost(java.time.Duration.ofSeconds(20))
        .until(() -> i.players().get(alice).block().state().room().isEmpty());
    assertThat(leaves(i, "unrated")).isEqualTo(1);
    assertThat(leaves(i, "rated")).isZero();
  }

  @Test
  void an_end_with_a_result_already_rated_moves_nobody_again() {
    Instance i = instance(java.time.Duration.ofMillis(100));
    String alice = create(i, "alice");
    String id = "ranked-" + UUID.randomUUID();
    i.rooms().follow(List.of(placed(id, 1, 8, alice))).block();
    i.players()
        .handle(
            alice,
            new PlayerCommand.RateMatch(
                id,
                "ranked",
                Outcome.WIN,
                0.5,
                new PlayerCommand.RatingRules(1200, 24, 48, 10),
                10,
                10),
            T,
            IdempotencyKey.of(RoomAllocator.resultKey(id), Result.RESULT_TEAM_0_WON.name()))
        .block();

    i.rooms().follow(List.of(ended(id, Result.RESULT_TEAM_0_WON, alice))).block();

    await().atMost(java.time.Duration.ofSeconds(20)).until(() -> leaves(i, "rated") == 1);
    assertThat(leaves(i, "unrated")).isZero();
    assertThat(i.players().get(alice).block().state().room()).isEmpty();
    assertThat(history(i, alice))
        .as("left once, with the rating")
        .filteredOn(
            e ->
                e instanceof PlayerEvent.RoomLeft
                    || (e instanceof PlayerEvent.MatchRated r
                        && r.settled().map(PlayerEvent.Settled::leftRoom).orElse(false)))
        .hasSize(1);
  }

  static double leaves(Instance i, String outcome) {
    return i.meters().get("citadel_result_leaves").tag("outcome", outcome).counter().count();
  }

  @Test
  void a_game_replayed_from_the_journal_leaves_its_players_in_the_lobby() {
    // The outbox republishes a round (a publisher took over), or the batch is delivered again:
    // the placement comes again, and its end after it, in the stream's order.
    Instance i = instance();
    String alice = create(i, "alice");
    String id = "ranked-" + UUID.randomUUID();
    var room = i.allocator().place(id, List.of(alice), T).block().orElseThrow();
    List<IncomingMessage> game =
        List.of(placed(id, room.channel(), room.room(), alice), ended(id, alice));
    i.rooms().follow(List.of(game.get(0))).block(); // seated while the game is on
    i.allocator().end(id, T).block().orElseThrow();

    i.rooms().follow(game).block();
    i.rooms().follow(game).block();
    i.rooms().follow(List.of(game.get(1))).block();

    assertThat(i.players().get(alice).block().state().room()).isEmpty();
    assertThat(history(i, alice))
        .as("seated once: a placement read after its game ended seats nobody")
        .filteredOn(e -> e instanceof PlayerEvent.RoomJoined)
        .hasSize(1);
  }

  @Test
  void a_placement_read_again_after_its_game_ended_seats_nobody() {
    // A publisher that took over the outbox republishes a round: the placement arrives alone,
    // after the end was followed already.
    Instance i = instance();
    String alice = create(i, "alice");
    String id = "ranked-" + UUID.randomUUID();
    var room = i.allocator().place(id, List.of(alice), T).block().orElseThrow();
    i.rooms().follow(List.of(placed(id, room.channel(), room.room(), alice))).block();
    i.allocator().end(id, T).block().orElseThrow();
    i.rooms().follow(List.of(ended(id, alice))).block();

    i.rooms().follow(List.of(placed(id, room.channel(), room.room(), alice))).block();

    assertThat(i.players().get(alice).block().state().room()).isEmpty();
  }

  @Test
  void a_player_still_in_a_game_that_is_over_is_seated_in_the_next_one() {
    // The end of the first game sits on another partition that is behind: the next match's
    // placement arrives while the player's state still holds the old seat.
    Instance i = instance();
    String alice = create(i, "alice");
    String first = "ranked-" + UUID.randomUUID();
    String second = "ranked-" + UUID.randomUUID();
    var room1 = i.allocator().place(first, List.of(alice), T).block().orElseThrow();
    i.rooms().follow(List.of(placed(first, room1.channel(), room1.room(), alice))).block();
    i.allocator().end(first, T).block().orElseThrow();
    var room2 = i.allocator().place(second, List.of(alice), T).block().orElseThrow();

    i.rooms().follow(List.of(placed(second, room2.channel(), room2.room(), alice))).block();

    assertThat(i.players().get(alice).block().state().room())
        .contains(new PlayerState.Seat(second, room2.channel(), room2.room()));
    i.rooms().follow(List.of(ended(first, alice))).block(); // the late end changes nothing
    assertThat(i.players().get(alice).block().state().room())
        .contains(new PlayerState.Seat(second, room2.channel(), room2.room()));
  }

  @Test
  void a_player_in_a_game_that_is_still_on_keeps_it() {
    Instance i = instance();
    String alice = create(i, "alice");
    String first = "ranked-" + UUID.randomUUID();
    var room1 = i.allocator().place(first, List.of(alice), T).block().orElseThrow();
    i.rooms().follow(List.of(placed(first, room1.channel(), room1.room(), alice))).block();

    StepVerifier.create(i.rooms().follow(List.of(placed("ranked-other", 1, 9, alice))))
        .verifyComplete();

    assertThat(i.players().get(alice).block().state().room())
        .contains(new PlayerState.Seat(first, room1.channel(), room1.room()));
  }

  @Test
  void a_store_that_fails_fails_the_batch_so_that_it_is_delivered_again() {
    Instance i = instance();
    String alice = create(i, "alice");
    i.pool().dispose(); // the database is gone for this instance

    StepVerifier.create(i.rooms().follow(List.of(placed("ranked-4", 1, 5, alice))))
        .expectError()
        .verify();

    Instance healthy = instance();
    assertThat(healthy.players().get(alice).block().state().room()).isEmpty();
  }

  static List<PlayerEvent> history(Instance i, String player) {
    return i.store()
        .readStream(player)
        .map(e -> PlayerCodec.decode(e.type(), e.payload()))
        .collectList()
        .block();
  }

  @Test
  void a_game_never_ended_is_ended_after_the_maximum_game_length() {
    Instance a = instance();
    String stale = "timeout-" + java.util.UUID.randomUUID();
    String running = "running-" + java.util.UUID.randomUUID();
    a.allocator()
        .placeAll(
            List.of(new RoomAllocator.Request(stale, List.of("t1"), "ranked")),
            T.minus(java.time.Duration.ofHours(3)))
        .block();
    a.allocator()
        .placeAll(
            List.of(new RoomAllocator.Request(running, List.of("t2"), "ranked")),
            T.minus(java.time.Duration.ofMinutes(10)))
        .block();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    GameTimeouts timeouts =
        new GameTimeouts(
            a.store(),
            a.rooms(),
            java.time.Duration.ofHours(2),
            Clock.fixed(T, ZoneOffset.UTC),
            meters);

    assertThat(timeouts.sweep().block()).isEqualTo(1);

    RoomAllocator.Status ended = a.allocator().status(stale).block().orElseThrow();
    assertThat(ended.ended()).isTrue();
    assertThat(ended.end().get().getResult())
        .as("no result: nobody's rating changes")
        .isEqualTo(dev.citadel.protocol.match.v1.Result.RESULT_NONE);
    assertThat(a.allocator().status(running).block().orElseThrow().ended()).isFalse();
    assertThat(meters.get("citadel_matches_timed_out").counter().count()).isEqualTo(1);
    assertThat(timeouts.sweep().block()).as("nothing left to end").isZero();
  }
}
