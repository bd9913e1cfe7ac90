package dev.citadel.member.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.eventstore.Connections;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.protocol.member.v1.PresenceChanged;
import dev.citadel.protocol.member.v1.PresenceStatus;
import io.r2dbc.pool.ConnectionPool;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;

/** Presence batches against the real schema: newest wins, unknown players skipped, once. */
@CitadelInfra
class PresenceStoreTest {
  static PostgresEndpoint pg;
  static ConnectionPool pool;
  static PresenceStore store;

  @BeforeAll
  static void migrate() {
    pg = migrated("presence_store_test");
    pool = pool(pg);
    store = new PresenceStore(DatabaseClient.create(pool));
  }

  /** A database of its own with member-service's schema. */
  static PostgresEndpoint migrated(String name) {
    PostgresEndpoint db = SharedInfra.postgresDatabase(name);
    Flyway.configure()
        .dataSource(db.jdbcUrl(), db.username(), db.password())
        .locations("classpath:db/member")
        .table("member_schema_history")
        .load()
        .migrate();
    return db;
  }

  static ConnectionPool pool(PostgresEndpoint db) {
    return Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), 4);
  }

  @AfterAll
  static void close() {
    pool.dispose();
  }

  static String account() throws Exception {
    return account(pg);
  }

  /** A player with an account in {@code db}. */
  static String account(PostgresEndpoint db) throws Exception {
    String id = "p-" + UUID.randomUUID();
    try (var c = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
        var insert =
            c.prepareStatement(
                "INSERT INTO accounts (player_id, nickname, nickname_key, password_hash,"
                    + " created_at) VALUES (?, ?, ?, 'x', now())")) {
      insert.setString(1, id);
      insert.setString(2, id);
      insert.setString(3, id);
      insert.executeUpdate();
    }
    return id;
  }

  static PresenceChanged change(String player, PresenceStatus status, String match, long seq) {
    return PresenceChanged.newBuilder()
        .setPlayerId(player)
        .setStatus(status)
        .setMatchId(match)
        .setSequence(seq)
        .setOccurredAtEpochMs(1_700_000_000_000L + seq)
        .build();
  }

  static PresenceView view(String player) {
    return store.view(player).block();
  }

  @Test
  void a_batch_keeps_each_players_newest_change_whatever_the_order() throws Exception {
    String a = account();
    String b = account();
    PresenceStore.Applied applied =
        store
            .applyAll(
                List.of(
                    change(a, PresenceStatus.QUEUED, "", 1),
                    change(b, PresenceStatus.QUEUED, "", 1),
                    change(a, PresenceStatus.IN_GAME, "m-1", 3),
                    change(a, PresenceStatus.QUEUED, "", 2), // an older one redelivered late
                    change(b, PresenceStatus.IN_GAME, "m-2", 2)))
            .block();
    assertThat(applied).isEqualTo(new PresenceStore.Applied(2, 0));
    assertThat(view(a).status()).isEqualTo("IN_GAME");
    assertThat(view(a).matchId()).isEqualTo("m-1");
    assertThat(view(b).matchId()).isEqualTo("m-2");
  }

  @Test
  void a_change_older_than_the_stored_one_changes_nothing() throws Exception {
    String a = account();
    store.applyAll(List.of(change(a, PresenceStatus.IN_GAME, "m-1", 5))).block();
    PresenceStore.Applied again =
        store
            .applyAll(
                List.of(
                    change(a, PresenceStatus.QUEUED, "", 4),
                    change(a, PresenceStatus.IN_GAME, "m-1", 5)))
            .block();
    assertThat(again.applied()).isZero();
    assertThat(view(a).status()).isEqualTo("IN_GAME");
    store.applyAll(List.of(change(a, PresenceStatus.LOBBY, "", 6))).block();
    assertThat(view(a).status()).isEqualTo("LOBBY");
    assertThat(view(a).matchId()).isNull();
  }

  @Test
  void players_without_an_account_are_skipped_and_counted_and_the_others_applied()
      throws Exception {
    String known = account();
    List<PresenceChanged> batch = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      batch.add(change("bulk-" + UUID.randomUUID(), PresenceStatus.QUEUED, "", 1));
    }
    batch.add(150, change(known, PresenceStatus.QUEUED, "", 1));
    PresenceStore.Applied applied = store.applyAll(batch).block();
    assertThat(applied).isEqualTo(new PresenceStore.Applied(1, 300));
    assertThat(view(known).status()).isEqualTo("QUEUED");
  }

  @Test
  void a_change_without_a_status_is_refused_before_anything_is_written() throws Exception {
    String a = account();
    assertThatThrownBy(
            () ->
                store.applyAll(
                    List.of(
                        change(a, PresenceStatus.QUEUED, "", 1),
                        PresenceChanged.newBuilder().setPlayerId(a).setSequence(2).build())))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(view(a).status()).isEqualTo("LOBBY");
  }
}
