package dev.citadel.gamestate.bench;

import static dev.citadel.gamestate.bench.BenchmarkReport.median;
import static dev.citadel.gamestate.bench.BenchmarkReport.millis;
import static dev.citadel.gamestate.bench.BenchmarkReport.perSecond;
import static dev.citadel.gamestate.bench.BenchmarkReport.percentileMillis;
import static dev.citadel.gamestate.bench.BenchmarkReport.ratio;
import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.Snapshot;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.HostOptions;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerRejected;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.storage.PlayerCodec;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.r2dbc.pool.ConnectionPool;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The event-store and game-state benchmarks of the README. Not part of the test suite: run with
 * {@code ./mvnw -Pbenchmark -pl game-state-service -am test}. Each prints its figures and writes
 * target/benchmarks/NAME.md.
 *
 * <p>One unit on purpose (over 300 lines): the README's three game-state figures share one
 * database, one pool and one report format; each benchmark is a test with its helpers beside it.
 */
@Tag("benchmark")
@CitadelInfra
class GameStateBenchmarkTest {
  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");

  /** Stream ids of this run: the database may outlive it (a PostgreSQL given by URL). */
  static final String RUN = Long.toString(System.nanoTime(), 36);

  /** Concurrent appends offered to the store, as many players' commands would be. */
  static final int APPENDS_IN_FLIGHT = Integer.getInteger("bench.appends-in-flight", 2000);

  static PostgresEndpoint db;
  static ConnectionPool pool;

  @BeforeAll
  static void setUp() {
    db = SharedInfra.postgresDatabase("bench_game_state");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    pool = Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), 16);
  }

  static String setting(String name) throws Exception {
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }

  static EventData goldEvent(int i) {
    return PlayerCodec.encode(
        new PlayerEvent.GoldEarned(1 + (i % 1000), "benchmark-reward-" + (i % 97)));
  }

  /** Unmeasured passes of each side before the measured ones: a cold JVM measures the JIT. */
  static final int WARM_UP_PASSES = Integer.getInteger("bench.warm-up-passes", 2);

  /** Measured passes of each side, alternating; the report gives the median of each. */
  static final int MEASURED_PASSES = Integer.getInteger("bench.measured-passes", 3);

  /**
   * (1) Appends through the event store (one event per append, 10,000 players, group commit)
   * against the same rows inserted by plain batched JDBC into the same PostgreSQL. Both sides run
   * {@link #WARM_UP_PASSES} unmeasured passes first, then alternate {@link #MEASURED_PASSES}
   * measured ones (so a slow minute of the shared machine falls on both).
   */
  @Test
  void append_throughput_against_plain_batched_jdbc() throws Exception {
    int players = 10_000;
    int perPlayer = 10;
    int total = players * perPlayer;
    BenchmarkReport report =
        new BenchmarkReport("append", "Event append throughput (" + total + " events)");
    report.note(
        "PostgreSQL 17 (embedded), fsync="
            + setting("fsync")
            + ", synchronous_commit="
            + setting("synchronous_commit")
            + "; payload ~30 B protobuf; 2 cores shared by Postgres and the JVM");
    PostgresEventStore store = new PostgresEventStore(pool, EventStoreOptions.defaults());
    List<Double> baseline = new ArrayList<>();
    List<Double> citadel = new ArrayList<>();
    try (Connection c =
        DriverManager.getConnection(
            db.jdbcUrl() + "?reWriteBatchedInserts=true", db.username(), db.password())) {
      for (int pass = 0; pass < WARM_UP_PASSES + MEASURED_PASSES; pass++) {
        double jdbc = total / jdbcPass(c, players, perPlayer);
        double store_ =
            total / storePass(store, "bench-append-" + RUN + "-" + pass + "-", players, perPlayer);
        if (pass >= WARM_UP_PASSES) {
          baseline.add(jdbc);
          citadel.add(store_);
        }
      }
    }
    double base = median(baseline);
    double ours = median(citadel);
    report.row(
        "plain batched JDBC INSERT (1,000 rows/commit), median of " + MEASURED_PASSES,
        perSecond(base));
    report.row(
        "event store append (expected version, group commit), median of " + MEASURED_PASSES,
        perSecond(ours));
    report.row("ratio to plain batched JDBC", ratio(ours / base));
    report.note(
        APPENDS_IN_FLIGHT
            + " appends in flight, each to a different player; "
            + WARM_UP_PASSES
            + " unmeasured passes of each side first; passes (JDBC / store, per second): "
            + passes(baseline, citadel));
    report.write();
  }

  private static String passes(List<Double> baseline, List<Double> citadel) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < baseline.size(); i++) {
      s.append(i == 0 ? "" : ", ")
          .append(String.format("%,.0f / %,.0f", baseline.get(i), citadel.get(i)));
    }
    return s.toString();
  }

  /** The same rows, plain JDBC into a fresh table, multi-row batches of 1,000, one commit each. */
  private static double jdbcPass(Connection c, int players, int perPlayer) throws Exception {
    c.setAutoCommit(true);
    try (Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS events_baseline");
      s.execute("CREATE TABLE events_baseline (LIKE events INCLUDING ALL)");
    }
    c.setAutoCommit(false);
    long start = System.nanoTime();
    try (PreparedStatement insert =
        c.prepareStatement(
            "INSERT INTO events_baseline (aggregate_id, seq, aggregate_type, event_type, payload,"
                + " recorded_at) VALUES (?, ?, ?, ?, ?, ?)")) {
      int n = 0;
      for (int seq = 1; seq <= perPlayer; seq++) {
        for (int p = 0; p < players; p++) {
          EventData e = goldEvent(n);
          insert.setString(1, "base-" + p);
          insert.setLong(2, seq);
          insert.setString(3, "player");
          insert.setString(4, e.type());
          insert.setBytes(5, e.payload());
          insert.setTimestamp(6, Timestamp.from(T));
          insert.addBatch();
          if (++n % 1000 == 0) {
            insert.executeBatch();
            c.commit();
          }
        }
      }
    }
    return (System.nanoTime() - start) / 1e9;
  }

  /**
   * Every event its own append with an expected version, concurrently for {@code players} new
   * streams; group commit batches what is in flight.
   */
  private static double storePass(
      PostgresEventStore store, String prefix, int players, int perPlayer) {
    long[] versions = new long[players];
    AtomicInteger done = new AtomicInteger();
    long start = System.nanoTime();
    for (int seq = 1; seq <= perPlayer; seq++) {
      Flux.range(0, players)
          .flatMap(
              p ->
                  store
                      .append(
                          new AppendRequest(
                              "player", prefix + p, versions[p], List.of(goldEvent(p)), T))
                      .doOnNext(
                          a -> {
                            versions[p] = a.version();
                            done.incrementAndGet();
                          }),
              APPENDS_IN_FLIGHT)
          .blockLast();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    assertThat(done.get()).isEqualTo(players * perPlayer);
    return seconds;
  }

  /** (2) Recovery of a player with 100,000 events, without and with a snapshot. */
  @Test
  void recovery_of_a_player_with_100k_events() {
    int events = 100_000;
    BenchmarkReport report =
        new BenchmarkReport("recovery", "Recovery of a player with " + events + " events");
    SnapshotPolicy never = new SnapshotPolicy(Integer.MAX_VALUE, false, 2);
    PostgresEventStore store =
        new PostgresEventStore(
            pool, EventStoreOptions.defaults().withPolicy(PlayerAggregate.NAME, never));
    String plain = "bench-recovery-plain-" + System.nanoTime();
    String snapshotted = "bench-recovery-snap-" + System.nanoTime();
    PlayerState state = null;
    for (String id : List.of(plain, snapshotted)) {
      List<PlayerEvent> history = new ArrayList<>();
      history.add(new PlayerEvent.PlayerCreated(id, "whale", T));
      for (int i = 1; i < events; i++) {
        history.add(new PlayerEvent.GoldEarned(1, "grind"));
      }
      for (int from = 0; from < events; from += 1000) {
        List<EventData> chunk =
            history.subList(from, from + 1000).stream().map(PlayerCodec::encode).toList();
        store.append(new AppendRequest("player", id, from, chunk, T)).block();
      }
      state = Player.replay(PlayerState.initial(id), history);
    }
    // The default policy would have snapshotted at 99,900; the last 100 events are the tail.
    PlayerState at99900 =
        new PlayerState(
            snapshotted,
            true,
            "whale",
            0,
            1,
            0,
            99_899,
            java.util.Map.of(),
            java.util.Optional.empty(),
            T,
            java.util.Map.of(),
            java.util.Map.of(),
            java.util.List.of(),
            java.util.List.of());
    store
        .saveSnapshot(
            new Snapshot(
                "player",
                snapshotted,
                99_900,
                PlayerCodec.SNAPSHOT_TYPE,
                PlayerCodec.snapshot(at99900),
                T))
        .block();

    List<Double> withoutSnapshot = new ArrayList<>();
    List<Double> withSnapshot = new ArrayList<>();
    for (int round = 0; round < 5; round++) {
      withoutSnapshot.add(recoverMillis(store, never, plain, events - 1));
      withSnapshot.add(recoverMillis(store, never, snapshotted, events - 1));
    }
    double slow = median(withoutSnapshot);
    double fast = median(withSnapshot);
    report.row("full replay of 100,000 events (median of 5)", millis(slow));
    report.row("snapshot + 100 events (median of 5)", millis(fast));
    report.row("speed-up", ratio(slow / fast));
    report.write();
    assertThat(state.gold()).isEqualTo(events - 1);
  }

  private static double recoverMillis(
      PostgresEventStore store, SnapshotPolicy policy, String id, long expectedGold) {
    AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host =
        new AggregateHost<>(
            new PlayerAggregate(),
            store,
            policy,
            HostOptions.defaults(),
            List.of(),
            new SimpleMeterRegistry(),
            System::nanoTime);
    long start = System.nanoTime();
    PlayerState s = host.get(id).block().state();
    double ms = (System.nanoTime() - start) / 1e6;
    assertThat(s.gold()).isEqualTo(expectedGold);
    return ms;
  }

  /** (3) Commands per second and latency for 10,000 players on one instance. */
  @Test
  void commands_for_10k_players() {
    int players = 10_000;
    int commands = 100_000;
    int inFlight = 256;
    BenchmarkReport report =
        new BenchmarkReport(
            "commands", "Commands on one game-state instance (" + players + " players)");
    PostgresEventStore store =
        new PostgresEventStore(
            pool,
            EventStoreOptions.defaults().withPolicy(PlayerAggregate.NAME, SnapshotPolicy.DEFAULT));
    AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host =
        new AggregateHost<>(
            new PlayerAggregate(),
            store,
            SnapshotPolicy.DEFAULT,
            HostOptions.defaults(),
            List.of(),
            new SimpleMeterRegistry(),
            System::nanoTime);
    String run = Long.toString(System.nanoTime(), 36);
    List<String> ids =
        IntStream.range(0, players).mapToObj(i -> "bench-cmd-" + run + "-" + i).toList();
    Flux.fromIterable(ids)
        .flatMap(
            id ->
                host.handle(
                    id, new PlayerCommand.CreatePlayer("bench_" + (id.hashCode() & 0xfff), T), T),
            inFlight)
        .blockLast();

    Random random = new Random(11);
    PlayerCommand[] script = new PlayerCommand[commands];
    String[] target = new String[commands];
    for (int i = 0; i < commands; i++) {
      target[i] = ids.get(random.nextInt(players));
      script[i] =
          switch (random.nextInt(4)) {
            case 0 -> new PlayerCommand.GainExperience(1 + random.nextInt(100));
            case 1 -> new PlayerCommand.SpendGold(1 + random.nextInt(20), "shop");
            case 2 -> new PlayerCommand.AddItem("gem", 1);
            default -> new PlayerCommand.EarnGold(1 + random.nextInt(40), "quest");
          };
    }
    long[] latency = new long[commands];
    AtomicInteger rejected = new AtomicInteger();
    long start = 0;
    // The first pass warms the JIT, unmeasured; the second is the figure.
    for (int pass = 0; pass < 2; pass++) {
      rejected.set(0);
      start = System.nanoTime();
      Flux.range(0, commands)
          .flatMap(
              i -> {
                long t0 = System.nanoTime();
                return host.handle(target[i], script[i], T)
                    .then(Mono.fromRunnable(() -> latency[i] = System.nanoTime() - t0))
                    .onErrorResume(
                        PlayerRejected.class,
                        e -> {
                          latency[i] = System.nanoTime() - t0;
                          rejected.incrementAndGet();
                          return Mono.empty();
                        });
              },
              inFlight)
          .blockLast();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    report.row(
        "commands", String.format("%,d (%,d rejected by the rules)", commands, rejected.get()));
    report.row("throughput (" + inFlight + " in flight)", perSecond(commands / seconds));
    report.row("latency p50", millis(percentileMillis(latency, 50)));
    report.row("latency p99", millis(percentileMillis(latency, 99)));
    report.note(
        "in-process: the host and event store without HTTP; every accepted command is one durable"
            + " append; measured on the second of two passes of the same script (the first warms the"
            + " JIT)");
    report.write();
  }
}
