package dev.citadel.gamestate.leaderboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.HostOptions;
import dev.citadel.gamestate.player.Outcome;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.testing.OpenedPools;
import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.infra.redis.RedisServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/**
 * Redis lost the leaderboards (its own server here, flushed): they are written again from the
 * journal, once, and a newer live update is never undone by the rebuild.
 */
@CitadelInfra
class LeaderboardRebuildTest {
  @RegisterExtension static final OpenedPools POOLS = new OpenedPools();
  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");

  static RedisServer redisServer;
  static LettuceConnectionFactory factory;
  static ReactiveStringRedisTemplate redis;
  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  static PostgresEventStore store;

  @BeforeAll
  static void start() {
    redisServer = RedisServer.start(InfraSettings.local(), FreePorts.next());
    factory =
        new LettuceConnectionFactory(redisServer.endpoint().host(), redisServer.endpoint().port());
    factory.afterPropertiesSet();
    redis = new ReactiveStringRedisTemplate(factory);
    PostgresEndpoint db = SharedInfra.postgresDatabase("leaderboard_rebuild_test");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    store = new PostgresEventStore(POOLS.open(db, 8), EventStoreOptions.defaults());
    players =
        new AggregateHost<>(
            new PlayerAggregate(),
            store,
            SnapshotPolicy.DEFAULT,
            HostOptions.defaults(),
            List.of(),
            new SimpleMeterRegistry(),
            System::nanoTime);
  }

  @AfterAll
  static void stop() {
    factory.destroy();
    redisServer.close();
  }

  @Test
  void leaderboards_redis_lost_are_written_again_from_the_journal() {
    String queue = "ranked";
    String[] ids = new String[3];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = "p-" + UUID.randomUUID();
      players.handle(ids[i], new PlayerCommand.CreatePlayer("nick" + i, T), T).block();
      players.handle(ids[i], new PlayerCommand.GainExperience(100L * (i + 1)), T).block();
    }
    players
        .handle(
            ids[0],
            new PlayerCommand.RateMatch(
                "m-1",
                queue,
                Outcome.WIN,
                0.5,
                new PlayerCommand.RatingRules(1200, 24, 48, 10),
                0,
                0),
            T)
        .block();
    int rating = players.get(ids[0]).block().state().ratings().get(queue).rating();
    redis.getConnectionFactory().getReactiveConnection().serverCommands().flushAll().block();

    LeaderboardRebuild rebuild =
        new LeaderboardRebuild(store, players, redis, new SimpleMeterRegistry());
    assertThat(rebuild.rebuildIfLost().block()).isTrue();

    for (int i = 0; i < ids.length; i++) {
      assertThat(redis.opsForZSet().score(Leaderboard.SCORES, ids[i]).block())
          .isEqualTo(100.0 * (i + 1));
      assertThat(redis.<String, String>opsForHash().get(Leaderboard.NICKNAMES, ids[i]).block())
          .isEqualTo("nick" + i);
    }
    assertThat(redis.opsForZSet().score(Leaderboard.ratings(queue), ids[0]).block())
        .isEqualTo((double) rating);
    // Complete: the next check leaves them alone.
    assertThat(rebuild.rebuildIfLost().block()).isFalse();

    // A rebuild racing live updates never lowers what they wrote (experience only rises).
    Leaderboard.write(
            redis, List.of(new Leaderboard.Update(false, ids[1], "renamed", 99, 5_000, 0, "")))
        .block();
    redis.delete(LeaderboardRebuild.BUILT).block();
    assertThat(rebuild.rebuildIfLost().block()).isTrue();
    assertThat(redis.opsForZSet().score(Leaderboard.SCORES, ids[1]).block()).isEqualTo(5_000.0);
    assertThat(redis.<String, String>opsForHash().get(Leaderboard.NICKNAMES, ids[1]).block())
        .isEqualTo("renamed");
  }

  /**
   * A player this version cannot read (a snapshot of another type, its first events removed by
   * retention) is skipped and counted: it stopped the whole rebuild, at every check, for good.
   */
  @Test
  void a_player_that_cannot_be_read_is_skipped_and_the_others_are_written() {
    String unreadable = "p-" + UUID.randomUUID();
    players.handle(unreadable, new PlayerCommand.CreatePlayer("lost", T), T).block();
    long version =
        players.handle(unreadable, new PlayerCommand.GainExperience(50), T).block().version();
    // Saved with the default policy: retention removes the events up to it.
    store
        .saveSnapshot(
            new dev.citadel.eventstore.Snapshot(
                PlayerAggregate.NAME,
                unreadable,
                version,
                "citadel.test.SomeOtherSnapshot",
                new byte[] {1},
                T))
        .block();
    String readable = "p-" + UUID.randomUUID();
    players.handle(readable, new PlayerCommand.CreatePlayer("found", T), T).block();
    players.handle(readable, new PlayerCommand.GainExperience(700), T).block();
    redis.getConnectionFactory().getReactiveConnection().serverCommands().flushAll().block();

    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    assertThat(new LeaderboardRebuild(store, players, redis, meters).rebuildIfLost().block())
        .isTrue();
    assertThat(redis.opsForZSet().score(Leaderboard.SCORES, readable).block()).isEqualTo(700.0);
    assertThat(redis.opsForZSet().score(Leaderboard.SCORES, unreadable).block()).isNull();
    assertThat(meters.counter("citadel_leaderboard_rebuild_skipped").count()).isEqualTo(1.0);
  }
}
