package dev.citadel.gamestate.accounts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.HostOptions;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.testing.OpenedPools;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.Unprocessable;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import dev.citadel.protocol.member.v1.AccountRegistered;
import dev.citadel.protocol.member.v1.NicknameChanged;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Account events on real PostgreSQL: one the player's rules refuse for good is dead-lettered, so
 * the partition's later registrations are not held up behind it for ever.
 */
@CitadelInfra
class AccountRegistrationsTest {
  @RegisterExtension static final OpenedPools POOLS = new OpenedPools();

  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  static AccountRegistrations registrations;

  @BeforeAll
  static void start() {
    PostgresEndpoint db = SharedInfra.postgresDatabase("gamestate_account_registrations");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    players =
        new AggregateHost<>(
            new PlayerAggregate(),
            new PostgresEventStore(POOLS.open(db, 4), EventStoreOptions.defaults()),
            SnapshotPolicy.DEFAULT,
            HostOptions.defaults(),
            List.of(),
            new SimpleMeterRegistry(),
            System::nanoTime);
    registrations = new AccountRegistrations(null, players, "member.events");
  }

  static IncomingMessage message(com.google.protobuf.Message event) {
    EventEnvelope envelope =
        EventEnvelope.newBuilder()
            .setEventType(event.getDescriptorForType().getFullName())
            .setPayload(event.toByteString())
            .build();
    return new IncomingMessage("member.events", 0, 0, "k", envelope.toByteArray(), Map.of());
  }

  static IncomingMessage registered(String id, String nickname) {
    return message(
        AccountRegistered.newBuilder()
            .setPlayerId(id)
            .setNickname(nickname)
            .setRegisteredAtEpochMs(1_800_000_000_000L)
            .build());
  }

  @Test
  void a_registration_creates_the_player_once_however_often_it_arrives() {
    String id = "p-" + UUID.randomUUID();
    registrations.handle(registered(id, "first_one")).block(Duration.ofSeconds(10));
    registrations.handle(registered(id, "first_one")).block(Duration.ofSeconds(10));
    assertThat(players.get(id).block().state().nickname()).isEqualTo("first_one");
  }

  static IncomingMessage renamed(String id, String nickname, long seq) {
    NicknameChanged event =
        NicknameChanged.newBuilder()
            .setPlayerId(id)
            .setNickname(nickname)
            .setChangedAtEpochMs(1_800_000_000_000L + seq)
            .build();
    EventEnvelope envelope =
        EventEnvelope.newBuilder()
            .setAggregateId(id)
            .setSeq(seq)
            .setEventType(event.getDescriptorForType().getFullName())
            .setPayload(event.toByteString())
            .build();
    return new IncomingMessage("member.events", 0, seq, id, envelope.toByteArray(), Map.of());
  }

  /**
   * The outbox sends at least once: a copy of an older rename may arrive after a newer one (a
   * publisher that lost its lease mid-send). It must not bring the old nickname back.
   */
  @Test
  void an_older_rename_arriving_again_after_a_newer_one_changes_nothing() {
    String id = "p-" + UUID.randomUUID();
    registrations.handle(registered(id, "first_one")).block(Duration.ofSeconds(10));
    registrations.handle(renamed(id, "second_one", 2)).block(Duration.ofSeconds(10));
    registrations.handle(renamed(id, "third_one", 3)).block(Duration.ofSeconds(10));
    registrations.handle(renamed(id, "second_one", 2)).block(Duration.ofSeconds(10));
    assertThat(players.get(id).block().state().nickname()).isEqualTo("third_one");
  }

  /**
   * A rename back to the nickname shown changes nothing visible, but it is newer than a rename
   * still on its way (a redelivery, a replay of dead letters): that one must not apply after it.
   */
  @Test
  void an_older_rename_arriving_after_a_newer_one_back_to_the_same_nickname_changes_nothing() {
    String id = "p-" + UUID.randomUUID();
    registrations.handle(registered(id, "first_one")).block(Duration.ofSeconds(10));
    registrations.handle(renamed(id, "first_one", 3)).block(Duration.ofSeconds(10));
    registrations.handle(renamed(id, "second_one", 2)).block(Duration.ofSeconds(10));
    assertThat(players.get(id).block().state().nickname()).isEqualTo("first_one");
  }

  @Test
  void a_rename_of_a_player_never_created_is_dead_lettered_not_retried_for_ever() {
    IncomingMessage rename =
        message(
            NicknameChanged.newBuilder()
                .setPlayerId("p-" + UUID.randomUUID())
                .setNickname("renamed")
                .setChangedAtEpochMs(1_800_000_000_000L)
                .build());
    assertThatThrownBy(() -> registrations.handle(rename).block(Duration.ofSeconds(10)))
        .isInstanceOf(Unprocessable.class);
  }

  @Test
  void a_registration_the_rules_refuse_is_dead_lettered_not_retried_for_ever() {
    assertThatThrownBy(
            () ->
                registrations
                    .handle(registered("p-" + UUID.randomUUID(), "no spaces allowed"))
                    .block(Duration.ofSeconds(10)))
        .isInstanceOf(Unprocessable.class);
  }
}
