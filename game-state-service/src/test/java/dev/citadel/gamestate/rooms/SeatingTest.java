package dev.citadel.gamestate.rooms;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.HostOptions;
import dev.citadel.gamestate.player.PlayerAggregate;
import dev.citadel.gamestate.player.PlayerCodec;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.match.v1.RoomAssigned;
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
import reactor.test.StepVerifier;

/** Seating players from {@code match.room-assigned}, against real PostgreSQL. */
@CitadelInfra
class SeatingTest {
  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  static PostgresEndpoint db;
  static ReactorKafkaPublisher publisher;

  @BeforeAll
  static void migrate() {
    db = SharedInfra.postgresDatabase("gamestate_seating_test");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    publisher =
        new ReactorKafkaPublisher(
            KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "seating-test"));
  }

  @AfterAll
  static void close() {
    publisher.close();
  }

  record Instance(
      ConnectionPool pool,
      PostgresEventStore store,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      MatchRooms rooms,
      SimpleMeterRegistry meters) {
    double recoveries() {
      return meters.get("citadel_aggregate_recoveries").counter().count();
    }
  }

  static Instance instance() {
    ConnectionPool pool =
        Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), 4);
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
    MatchRooms rooms =
        new MatchRooms(
            new RoomAllocator(store, 4, 10),
            publisher,
            players,
            Clock.fixed(T, ZoneOffset.UTC),
            "match.found",
            "match.room-assigned",
            "match.rejected",
            "match.ended",
            new SimpleMeterRegistry());
    return new Instance(pool, store, players, rooms, meters);
  }

  static IncomingMessage assigned(String matchId, int channel, int room, String... players) {
    byte[] value =
        RoomAssigned.newBuilder()
            .setMatchId(matchId)
            .setQueue("ranked")
            .setChannel(channel)
            .setRoom(room)
            .addAllPlayerIds(List.of(players))
            .build()
            .toByteArray();
    return new IncomingMessage("match.room-assigned", 0, 0, matchId, value, Map.of());
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
                .seat(
                    List.of(
                        assigned("ranked-1", 2, 7, alice, ghost), assigned("ranked-2", 3, 1, bob))))
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
  void a_redelivered_batch_seats_once() {
    Instance i = instance();
    String alice = create(i, "alice");
    List<IncomingMessage> batch = List.of(assigned("ranked-3", 1, 4, alice));

    i.rooms().seat(batch).block();
    i.rooms().seat(batch).block();

    List<PlayerEvent> history =
        i.store()
            .readStream(alice)
            .map(e -> PlayerCodec.decode(e.type(), e.payload()))
            .collectList()
            .block();
    assertThat(history).filteredOn(e -> e instanceof PlayerEvent.RoomJoined).hasSize(1);
  }

  @Test
  void when_a_game_ends_its_players_leave_the_room_and_a_redelivery_changes_nothing() {
    Instance i = instance();
    String alice = create(i, "alice");
    String ghost = "p-" + UUID.randomUUID();
    i.rooms().seat(List.of(assigned("ranked-5", 1, 6, alice, ghost))).block();
    List<IncomingMessage> ended = List.of(ended("ranked-5", alice, ghost));

    StepVerifier.create(i.rooms().leave(ended)).verifyComplete();
    long version = i.players().get(alice).block().version();
    i.rooms().leave(ended).block();

    assertThat(i.players().get(alice).block().state().room()).isEmpty();
    assertThat(i.players().get(alice).block().version()).as("left once").isEqualTo(version);
    assertThat(i.store().versions(List.of(ghost)).block()).isEmpty();
  }

  static IncomingMessage ended(String matchId, String... players) {
    byte[] value =
        dev.citadel.protocol.match.v1.MatchEnded.newBuilder()
            .setMatchId(matchId)
            .setQueue("ranked")
            .addAllPlayerIds(List.of(players))
            .build()
            .toByteArray();
    return new IncomingMessage("match.ended", 0, 0, matchId, value, Map.of());
  }

  @Test
  void a_store_that_fails_fails_the_batch_so_that_it_is_delivered_again() {
    Instance i = instance();
    String alice = create(i, "alice");
    i.pool().dispose(); // the database is gone for this instance

    StepVerifier.create(i.rooms().seat(List.of(assigned("ranked-4", 1, 5, alice))))
        .expectError()
        .verify();

    Instance healthy = instance();
    assertThat(healthy.players().get(alice).block().state().room()).isEmpty();
  }
}
