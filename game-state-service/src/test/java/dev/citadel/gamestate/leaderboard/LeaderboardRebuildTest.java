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
   * A rebuild that takes longer than its lock lasts keeps it (renewed on a timer, not after each
   * page): renewed only after a page, a slow page let a second instance take the lock and start a
   * rebuild of its own, while the first one's was given up at its next renewal.
   */
  @Test
  void a_rebuild_longer_than_its_lock_keeps_it_and_no_second_one_starts() throws Exception {
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 40; i++) {
      String id = "p-" + UUID.randomUUID();
      players.handle(id, new PlayerCommand.CreatePlayer("slow" + i, T), T).block();
      players.handle(id, new PlayerCommand.GainExperience(10 + i), T).block();
      ids.add(id);
    }
    redis.getConnectionFactory().getReactiveConnection().serverCommands().flushAll().block();
    // Each load 0.4 s: at 4 at once, a page of 40 players and more takes 4 s or more, longer
    // than the lock (3 s, renewed every second: only a stall of 2 s lets it lapse).
    var slowLoads =
        new dev.citadel.gamestate.testing.ForwardingEventStore(store) {
          @Override
          public reactor.core.publisher.Mono<dev.citadel.eventstore.LoadedStream> load(String id) {
            return super.load(id).delayElement(java.time.Duration.ofMillis(400));
          }
        };
    var slowPlayers =
        new AggregateHost<>(
            new PlayerAggregate(),
            slowLoads,
            SnapshotPolicy.DEFAULT,
            HostOptions.defaults(),
            List.of(),
            new SimpleMeterRegistry(),
            System::nanoTime);
    java.time.Duration lock = java.time.Duration.ofSeconds(3);
    var first =
        new LeaderboardRebuild(store, slowPlayers, redis, new SimpleMeterRegistry(), lock)
            .rebuildIfLost()
            .toFuture();
    var second = new LeaderboardRebuild(store, players, redis, new SimpleMeterRegistry(), lock);
    int checks = 0;
    while (!first.isDone()) {
      assertThat(second.rebuildIfLost().block()).as("a second rebuild started").isFalse();
      checks++;
    }
    assertThat(first.get()).isTrue();
    assertThat(checks).isPositive();
    assertThat(redis.hasKey(LeaderboardRebuild.BUILT).block()).isTrue();
    assertThat(redis.opsForZSet().score(Leaderboard.SCORES, ids.get(39)).block()).isEqualTo(49.0);
  }

  /**
   * A player a rebuild skipped is read again at each check after it (a newer version's type during
   * a rolling update is read by the newer version): written once readable, the set emptied of it;
   * one still unreadable stays, counted once.
   */
  @Test
  void players_a_rebuild_skipped_are_read_again_at_each_check() {
    String future = "p-" + UUID.randomUUID();
    players.handle(future, new PlayerCommand.CreatePlayer("future", T), T).block();
    store
        .append(
            new dev.citadel.eventstore.AppendRequest(
                PlayerAggregate.NAME,
                future,
                1,
                List.of(
                    new dev.citadel.eventstore.EventData(
                        "citadel.player.v9.SomethingNew", new byte[] {1})),
                T))
        .block();
    redis.getConnectionFactory().getReactiveConnection().serverCommands().flushAll().block();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    LeaderboardRebuild rebuild = new LeaderboardRebuild(store, players, redis, meters);
    assertThat(rebuild.rebuildIfLost().block()).isTrue();
    assertThat(redis.opsForSet().isMember(LeaderboardRebuild.SKIPPED, future).block()).isTrue();

    // Skipped by an older version, readable by this one.
    String readable = "p-" + UUID.randomUUID();
    players.handle(readable, new PlayerCommand.CreatePlayer("later", T), T).block();
    players.handle(readable, new PlayerCommand.GainExperience(321), T).block();
    redis.opsForZSet().remove(Leaderboard.SCORES, readable).block();
    redis.opsForSet().add(LeaderboardRebuild.SKIPPED, readable).block();
    double skippedBefore = meters.counter("citadel_leaderboard_rebuild_skipped").count();

    assertThat(rebuild.rebuildIfLost().block()).isFalse(); // complete: no rebuild, the set read
    assertThat(redis.opsForZSet().score(Leaderboard.SCORES, readable).block()).isEqualTo(321.0);
    assertThat(redis.opsForSet().isMember(LeaderboardRebuild.SKIPPED, readable).block()).isFalse();
    assertThat(redis.opsForSet().isMember(LeaderboardRebuild.SKIPPED, future).block()).isTrue();
    assertThat(meters.counter("citadel_leaderboard_rebuild_skipped").count())
        .isEqualTo(skippedBefore);
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
    // Counted (with the other tests' unreadable players in this database), and noted.
    assertThat(meters.counter("citadel_leaderboard_rebuild_skipped").count())
        .isEqualTo(redis.opsForSet().size(LeaderboardRebuild.SKIPPED).block().doubleValue())
        .isPositive();
    assertThat(redis.opsForSet().isMember(LeaderboardRebuild.SKIPPED, unreadable).block()).isTrue();
  }
}
