package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.gamestate.bench.RankCorrelation;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.match.v1.MatchFound;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.web.testing.TestIdentity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Results applied per second through the whole real path, with ratings learning skill as they go.
 * Two game-state processes (the packaged jar) on one PostgreSQL; players are created from {@code
 * AccountRegistered} and each has a hidden true skill (normal around 1200). Each round every player
 * plays one 5 vs 5 match: players are grouped ten by ten in rating order (the benchmark does the
 * matcher's grouping itself; match-service's Redis matcher is not in this run), each match is
 * placed through {@code match.found} on Kafka, and once every room is assigned, the game servers
 * post the results over HTTP with a service token ({@value #CONCURRENCY_DEFAULT} in flight): the
 * winner drawn from the teams' true skills (logistic); every tenth game is aborted instead ({@code
 * /end}, after the timed posting), so both ways out of a room are checked. Timed: the posting
 * alone, each result ending its match and storing ten players' rating changes and rewards in one
 * two-phase transaction (results posted at the same time share one: see the column "results a
 * transaction"); the first {@code bench.results.warmup} rounds (20) are played but not counted
 * (fresh JVMs still compiling: on 2026-12-06 the JIT compilers took a fifth of a core in each
 * instance from the first round to the 32nd, a long tail of framework methods crossing the
 * thresholds at about 40 compilations a second, and results/s rose until about round 15). Baseline
 * in the same run: a one-player grant over the same HTTP path, after a short warm-up (the grants
 * run before the rounds, on JVMs less warm than the counted rounds'). Each round also prints the
 * CPU both game-state processes spent per result while the results were posted (their {@code
 * process_cpu_time}), beside theirs per grant in the baseline. At the end, the ratings game-state
 * holds are checked against an independent Elo computation of every result.
 *
 * <p>One unit on purpose (over 300 lines): one benchmark's rounds, its two kinds of game end and
 * the checks that follow them (nobody left seated, every rating against the independent
 * computation) read as one story; the cluster is {@code TwoInstances}.
 *
 * <p>{@code ./mvnw -Pbenchmark -pl game-state-service -am verify -Dit.test=ResultsBenchmarkIT}
 * ({@code -Dbench.results.players}, {@code -Dbench.results.rounds}, {@code
 * -Dbench.results.concurrency} to change the shape).
 */
@Tag("benchmark")
@CitadelInfra
@Timeout(value = 40, unit = TimeUnit.MINUTES)
class ResultsBenchmarkIT {
  static final int CONCURRENCY_DEFAULT = 32;
  static final int PLAYERS = Integer.getInteger("bench.results.players", 2_000);
  static final int ROUNDS = Integer.getInteger("bench.results.rounds", 3);

  /** Rounds played first and not counted: the instances are fresh JVMs still compiling. */
  static final int WARMUP_ROUNDS = Integer.getInteger("bench.results.warmup", 20);

  static final int CONCURRENCY =
      Integer.getInteger("bench.results.concurrency", CONCURRENCY_DEFAULT);
  static final int BASELINE_SECONDS = 10;
  static final double SPREAD = 800;
  // The defaults of application.yml.
  static final int INITIAL = 1200;
  static final int K = 24;
  static final int PROVISIONAL_K = 48;
  static final int PROVISIONAL_GAMES = 10;

  static TwoInstances cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = new TwoInstances("game_state_results_bench", Map.of());
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  record Timed(int ok, int retried, double seconds, List<Long> latencies) {
    double perSecond() {
      return ok / seconds;
    }

    double percentile(double p) {
      List<Long> sorted = new ArrayList<>(latencies);
      Collections.sort(sorted);
      return sorted.get(Math.min(sorted.size() - 1, (int) (sorted.size() * p))) / 1e6;
    }
  }

  @Test
  void results_per_second_through_http_and_ratings_that_follow_skill() throws Exception {
    String run = Long.toString(System.currentTimeMillis(), 36);
    Random random = new Random(42);
    String[] ids = new String[PLAYERS];
    double[] skill = new double[PLAYERS];
    int[] rating = new int[PLAYERS];
    int[] games = new int[PLAYERS];
    for (int i = 0; i < PLAYERS; i++) {
      ids[i] = "rb-" + run + "-" + i;
      skill[i] = INITIAL + SPREAD * random.nextGaussian();
      rating[i] = INITIAL;
    }
    long registering = System.nanoTime();
    cluster.register(Arrays.asList(ids), Duration.ofMinutes(10));
    System.out.printf(
        Locale.ROOT,
        "[bench] %,d players created in %.1f s%n",
        PLAYERS,
        (System.nanoTime() - registering) / 1e9);

    // The instances are fresh JVMs: the first seconds of grants run mostly interpreted code (a
    // grant took 35 ms alone then, 8 ms after 3,000). Warmed first, the baseline is the service's.
    grants(ids);
    double cpuBefore = instancesCpuSeconds();
    Timed baseline = grants(ids);
    double cpuPerGrant = (instancesCpuSeconds() - cpuBefore) * 1000 / baseline.ok();

    StringBuilder report = new StringBuilder();
    report.append(
        String.format(
            Locale.ROOT,
            "### Match results over HTTP: %,d players, 5 vs 5, %d in flight, two game-state "
                + "instances (every tenth game ended without a result, untimed)%n%n",
            PLAYERS,
            CONCURRENCY));
    report.append(
        String.format(
            Locale.ROOT,
            "baseline, one-player grant over the same path (after %d s of warm-up): %,.0f/s (p50 %.1f"
                + " ms, p99 %.1f ms), %.2f ms of the game-state instances' CPU a grant%n%n",
            BASELINE_SECONDS,
            baseline.perSecond(),
            baseline.percentile(0.5),
            baseline.percentile(0.99),
            cpuPerGrant));
    report.append(
        "| round | results | results/s | ratio to grants/s | p50 | p99 | game-state CPU a result "
            + "| results a transaction | busy, sent again | placing | rank correlation "
            + "| left in a room |\n"
            + "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    double total = 0;
    List<String> stuck = new ArrayList<>();
    int applied = 0;
    int expected = 0;
    try (var publisher =
        new ReactorKafkaPublisher(
            KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "bench-found"))) {
      for (int round = 1; round <= WARMUP_ROUNDS + ROUNDS; round++) {
        boolean warmup = round <= WARMUP_ROUNDS;
        List<Match> matches = group(run, round, rating, skill, random);
        long placing = System.nanoTime();
        place(publisher, matches, ids, rating);
        double placed = (System.nanoTime() - placing) / 1e9;
        // Every tenth game is aborted (ended without a result, after the timed posting): its
        // players leave through the seats' follower, which a result no longer needs, so the check
        // below that nobody is left in a room covers that path too.
        List<Match> scored = new ArrayList<>();
        List<Match> aborted = new ArrayList<>();
        for (int i = 0; i < matches.size(); i++) {
          (i % 10 == 9 ? aborted : scored).add(matches.get(i));
        }
        List<Double> atStart = instancesMetrics();
        Timed posted = post(scored);
        List<Double> atEnd = instancesMetrics();
        double cpuPerResult = (atEnd.get(0) - atStart.get(0)) / 1e6 / posted.ok();
        double perTransaction =
            (atEnd.get(2) - atStart.get(2)) / Math.max(1, atEnd.get(1) - atStart.get(1));
        end(aborted);
        for (Match m : scored) {
          apply(m, rating, games);
        }
        List<String> stuckNow = lobby(ids);
        stuck.addAll(stuckNow);
        double rho = spearman(skill, rating);
        if (!warmup) {
          total += posted.seconds();
          applied += posted.ok();
          expected += scored.size();
        }
        report.append(
            String.format(
                Locale.ROOT,
                "| %s | %,d | %,.0f | %.2fx | %.1f ms | %.1f ms | %.1f ms | %.1f | %d | %.1f s | %.3f | %d |%n",
                warmup ? round + " (warm-up, not counted)" : Integer.toString(round),
                posted.ok(),
                posted.perSecond(),
                posted.perSecond() / baseline.perSecond(),
                posted.percentile(0.5),
                posted.percentile(0.99),
                cpuPerResult,
                perTransaction,
                posted.retried(),
                placed,
                rho,
                stuckNow.size()));
        System.out.print(report);
      }
    }
    report.append(
        String.format(
            Locale.ROOT,
            "%ncounted rounds: %,d results in %.1f s of posting: %,.0f results/s (%,.0f rating changes "
                + "and rewards per second)%n",
            applied,
            total,
            applied / total,
            applied * 10 / total));
    System.out.println(report);
    Files.createDirectories(Path.of("target", "benchmarks"));
    Files.writeString(Path.of("target", "benchmarks", "match-results.md"), report.toString());
    assertThat(stuck).as("players left in the room of a game that is over").isEmpty();

    // Every rating game-state holds is what the independent computation says (a sample of 500).
    List<Integer> sample = new ArrayList<>();
    for (int i = 0; i < PLAYERS; i += Math.max(1, PLAYERS / 500)) {
      sample.add(i);
    }
    Flux.fromIterable(sample)
        .flatMap(i -> ratingOf(ids[i]).map(r -> Map.entry(i, r)), 16)
        .doOnNext(e -> assertThat(e.getValue()).as(ids[e.getKey()]).isEqualTo(rating[e.getKey()]))
        .blockLast(Duration.ofSeconds(120));
    assertThat(applied).isEqualTo(expected); // every result of the counted rounds
  }

  /** One match: its id and its two teams (player indexes). */
  record Match(String id, int[] team0, int[] team1, boolean team0Won) {}

  /**
   * Ten by ten in rating order (ties at random), split into teams of close rating sums (1st, 4th,
   * 5th, 8th, 9th against the rest); the winner drawn from the teams' average true skills.
   */
  static List<Match> group(String run, int round, int[] rating, double[] skill, Random random) {
    int n = rating.length - rating.length % 10;
    Integer[] order = new Integer[rating.length];
    double[] jitter = random.doubles(rating.length).toArray();
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order,
        Comparator.<Integer>comparingInt(i -> rating[i]).thenComparingDouble(i -> jitter[i]));
    List<Match> matches = new ArrayList<>();
    for (int g = 0; g < n; g += 10) {
      int[][] teams = new int[2][5];
      int[] filled = new int[2];
      double[] teamSkill = new double[2];
      for (int k = 0; k < 10; k++) {
        int p = order[g + k];
        int team = (k % 4 == 0 || k % 4 == 3) ? 0 : 1;
        teams[team][filled[team]++] = p;
        teamSkill[team] += skill[p] / 5;
      }
      double team0Wins = 1 / (1 + Math.pow(10, (teamSkill[1] - teamSkill[0]) / 400));
      matches.add(
          new Match(
              "ranked-" + run + "-" + round + "-" + g / 10,
              teams[0],
              teams[1],
              random.nextDouble() < team0Wins));
    }
    return matches;
  }

  /** Hands every match over as match-service does, then waits until each has its room. */
  static void place(
      ReactorKafkaPublisher publisher, List<Match> matches, String[] ids, int[] rating) {
    publisher
        .publishAll(
            Flux.fromIterable(matches)
                .map(
                    m -> {
                      MatchFound.Builder found =
                          MatchFound.newBuilder()
                              .setMatchId(m.id())
                              .setQueue("ranked")
                              .setCreatedAtEpochMs(System.currentTimeMillis())
                              .setAttempt(1);
                      for (int team = 0; team < 2; team++) {
                        for (int p : team == 0 ? m.team0() : m.team1()) {
                          found.addPlayers(
                              MatchedPlayer.newBuilder()
                                  .setPlayerId(ids[p])
                                  .setNickname("n" + p)
                                  .setElo(rating[p])
                                  .setTeam(team));
                        }
                      }
                      return new OutgoingMessage(
                          "match.found", m.id(), found.build().toByteArray());
                    }))
        .blockLast(Duration.ofSeconds(120));
    Flux.fromIterable(matches)
        .flatMap(
            m ->
                gameServer(cluster.owner(m.id()))
                    .get()
                    .uri("/internal/matches/{id}", m.id())
                    .retrieve()
                    .bodyToMono(Map.class)
                    .filter(view -> "IN_ROOM".equals(view.get("state")))
                    // Ends on the 1,201st empty answer with nothing in flight (take(1_200) after
                    // the delay started a last request and cancelled it at once).
                    .repeatWhenEmpty(
                        r -> r.takeWhile(i -> i < 1_200).delayElements(Duration.ofMillis(100)))
                    .retryWhen(Retry.fixedDelay(1_200, Duration.ofMillis(100)))
                    .switchIfEmpty(
                        Mono.error(() -> new AssertionError(m.id() + " never got its room"))),
            64)
        .blockLast(Duration.ofMinutes(5));
  }

  /** Every result posted, {@link #CONCURRENCY} at a time; a 503 (players busy) is sent again. */
  static Timed post(List<Match> matches) {
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger retried = new AtomicInteger();
    long start = System.nanoTime();
    Flux.fromIterable(matches)
        .flatMap(
            m ->
                Mono.defer(
                        () -> {
                          long t0 = System.nanoTime();
                          return gameServer(cluster.owner(m.id()))
                              .post()
                              .uri("/internal/matches/{id}/result", m.id())
                              .bodyValue(Map.of("winningTeam", m.team0Won() ? 0 : 1))
                              .exchangeToMono(
                                  r ->
                                      r.bodyToMono(String.class)
                                          .defaultIfEmpty("")
                                          .map(b -> Map.entry(r.statusCode().value(), b)))
                              .flatMap(
                                  answer -> {
                                    if (answer.getKey() == 503) {
                                      retried.incrementAndGet();
                                      return Mono.error(new IllegalStateException("busy"));
                                    }
                                    assertThat(answer.getKey())
                                        .as(m.id() + ": " + answer.getValue())
                                        .isEqualTo(200);
                                    latencies.add(System.nanoTime() - t0);
                                    return Mono.just(answer.getKey());
                                  });
                        })
                    .retryWhen(
                        Retry.backoff(20, Duration.ofMillis(20))
                            .filter(e -> "busy".equals(e.getMessage()))),
            CONCURRENCY)
        .blockLast(Duration.ofMinutes(10));
    return new Timed(latencies.size(), retried.get(), (System.nanoTime() - start) / 1e9, latencies);
  }

  /**
   * The CPU both game-state processes have used so far (their {@code process_cpu_time}, from the
   * management port): taken before and after a phase, the CPU it cost them per operation.
   */
  static double instancesCpuSeconds() {
    return instancesMetrics().get(0) / 1e9;
  }

  /**
   * Summed over both instances: CPU nanoseconds, rating transactions of results and the results
   * they applied (a batch of several results is one transaction).
   */
  static List<Double> instancesMetrics() {
    double[] sums = new double[3];
    String[] names = {
      "process_cpu_time_ns_total",
      "citadel_result_batch_size_count",
      "citadel_result_batch_size_sum"
    };
    for (var p : cluster.processes) {
      List<dev.citadel.infra.observability.PrometheusText.Sample> metrics;
      try {
        metrics =
            dev.citadel.infra.observability.PrometheusText.scrape(
                p.management(), Duration.ofSeconds(30));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      for (int i = 0; i < names.length; i++) {
        String name = names[i];
        sums[i] +=
            metrics.stream()
                .filter(s -> s.name().equals(name))
                .findFirst()
                .orElseThrow(
                    () -> new IllegalStateException("no " + name + " at " + p.management()))
                .value();
      }
    }
    return List.of(sums[0], sums[1], sums[2]);
  }

  /** Ends these games without a result, as a game server does for an aborted game. */
  static void end(List<Match> matches) {
    Flux.fromIterable(matches)
        .flatMap(
            m ->
                gameServer(cluster.owner(m.id()))
                    .post()
                    .uri("/internal/matches/{id}/end", m.id())
                    .retrieve()
                    .toBodilessEntity()
                    // 503: the match is busy ending (a channel in contention); anything else fails.
                    .retryWhen(
                        Retry.backoff(20, Duration.ofMillis(20))
                            .maxBackoff(Duration.ofSeconds(1))
                            .filter(
                                e ->
                                    e
                                            instanceof
                                            org.springframework.web.reactive.function.client
                                                    .WebClientResponseException
                                                w
                                        && w.getStatusCode().value() == 503)),
            CONCURRENCY)
        .blockLast(Duration.ofMinutes(2));
  }

  /** The baseline: one-player grants (a reward id each) over the same HTTP path. */
  static Timed grants(String[] ids) {
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    long start = System.nanoTime();
    long end = start + Duration.ofSeconds(BASELINE_SECONDS).toNanos();
    Flux.range(0, CONCURRENCY)
        .flatMap(
            c ->
                Mono.defer(
                        () -> {
                          long t0 = System.nanoTime();
                          String p = ids[ThreadLocalRandom.current().nextInt(ids.length)];
                          return gameServer(cluster.owner(p))
                              .post()
                              .uri("/internal/players/{id}/grants", p)
                              .bodyValue(
                                  Map.of("rewardId", "bench-" + UUID.randomUUID(), "gold", 1))
                              .retrieve()
                              .toBodilessEntity()
                              .doOnSuccess(v -> latencies.add(System.nanoTime() - t0));
                        })
                    .repeat(() -> System.nanoTime() < end),
            CONCURRENCY)
        .blockLast(Duration.ofSeconds(BASELINE_SECONDS + 60));
    return new Timed(latencies.size(), 0, (System.nanoTime() - start) / 1e9, latencies);
  }

  /**
   * Waits until every player is out of their room (the end reaches seats through the outbox). Those
   * still seated after two minutes are answered (they fail the run at its end, after the figures),
   * with their journals printed: what seated them and what did not take them out. The next round
   * seats them anyway: a seat in a new match leaves a game that is over first.
   */
  static List<String> lobby(String[] ids) {
    List<String> stuck = Collections.synchronizedList(new ArrayList<>());
    Flux.fromArray(ids)
        .flatMap(
            id ->
                TwoInstances.client(cluster.owner(id))
                    .get()
                    .uri("/api/game/players/{id}", id)
                    .headers(h -> h.setBearerAuth(TwoInstances.token(id)))
                    .retrieve()
                    .bodyToMono(Map.class)
                    .filter(view -> view.get("room") == null)
                    // Ends on the 1,201st empty answer with nothing in flight (take(1_200) after
                    // the delay started a last request and cancelled it at once).
                    .repeatWhenEmpty(
                        r -> r.takeWhile(i -> i < 1_200).delayElements(Duration.ofMillis(100)))
                    .switchIfEmpty(Mono.fromRunnable(() -> stuck.add(id))),
            64)
        .blockLast(Duration.ofMinutes(5));
    if (!stuck.isEmpty()) {
      System.out.println(stuck.size() + " players never left their room: " + stuck);
      stuck.stream().limit(3).forEach(ResultsBenchmarkIT::printJournal);
    }
    return stuck;
  }

  /** A stream's events (and, for a player, those of the match streams they name), as stored. */
  static void printJournal(String player) {
    var db = cluster.db;
    String url = "jdbc:postgresql://" + db.host() + ":" + db.port() + "/" + db.database();
    try (var c = java.sql.DriverManager.getConnection(url, db.username(), db.password());
        var q =
            c.prepareStatement(
                "SELECT seq, event_type, recorded_at, tx_id::text FROM events"
                    + " WHERE aggregate_id = ? ORDER BY seq")) {
      q.setString(1, player);
      StringBuilder out = new StringBuilder("journal of " + player + ":\n");
      try (var rows = q.executeQuery()) {
        while (rows.next()) {
          out.append(
              String.format(
                  Locale.ROOT,
                  "  %d %s %s tx %s%n",
                  rows.getLong(1),
                  rows.getString(2),
                  rows.getTimestamp(3).toInstant(),
                  rows.getString(4)));
        }
      }
      try (var m =
          c.prepareStatement(
              "SELECT e.aggregate_id, e.seq, e.event_type, e.recorded_at, e.tx_id::text,"
                  + " e.global_position FROM events e WHERE e.aggregate_id IN (SELECT aggregate_id"
                  + " FROM events WHERE aggregate_type = 'match-room' AND position(convert_to(?, 'UTF8')"
                  + " IN payload) > 0) ORDER BY e.aggregate_id, e.seq")) {
        m.setString(1, player);
        try (var rows = m.executeQuery()) {
          while (rows.next()) {
            out.append(
                String.format(
                    Locale.ROOT,
                    "  match %s %d %s %s tx %s position %d%n",
                    rows.getString(1),
                    rows.getLong(2),
                    rows.getString(3),
                    rows.getTimestamp(4).toInstant(),
                    rows.getString(5),
                    rows.getLong(6)));
          }
        }
      }
      try (var st = c.createStatement();
          var rows =
              st.executeQuery(
                  "SELECT name, last_tx_id::text, last_position FROM outbox_checkpoints")) {
        while (rows.next()) {
          out.append(
              "  outbox "
                  + rows.getString(1)
                  + " at tx "
                  + rows.getString(2)
                  + " position "
                  + rows.getLong(3)
                  + "\n");
        }
      }
      System.out.print(out);
    } catch (java.sql.SQLException e) {
      System.out.println("could not read the journal of " + player + ": " + e);
    }
  }

  /**
   * Elo from the team averages as docs/game-loop.md gives it, computed here independently (the
   * expected score travels in parts per million, so it is rounded as on the wire).
   */
  static void apply(Match m, int[] rating, int[] games) {
    double[] average = {average(m.team0(), rating), average(m.team1(), rating)};
    int[] before = rating.clone();
    for (int team = 0; team < 2; team++) {
      double expected = 1 / (1 + Math.pow(10, (average[1 - team] - average[team]) / 400));
      expected = Math.round(expected * 1_000_000) / 1_000_000.0;
      double score = (team == 0) == m.team0Won() ? 1 : 0;
      for (int p : team == 0 ? m.team0() : m.team1()) {
        int k = games[p] < PROVISIONAL_GAMES ? PROVISIONAL_K : K;
        rating[p] = Math.max(0, before[p] + (int) Math.round(k * (score - expected)));
        games[p]++;
      }
    }
  }

  static double average(int[] team, int[] rating) {
    return Arrays.stream(team).map(p -> rating[p]).average().orElseThrow();
  }

  static Mono<Integer> ratingOf(String id) {
    return WebClient.builder()
        .baseUrl(cluster.owner(id))
        .defaultHeaders(
            h ->
                h.setBearerAuth(
                    TestIdentity.shared().service("match-service", "game-state", "ratings.read")))
        .build()
        .get()
        .uri("/internal/players/{id}/ratings/ranked", id)
        .retrieve()
        .bodyToMono(Map.class)
        .map(view -> ((Number) view.get("rating")).intValue());
  }

  private static final Map<String, WebClient> GAME_SERVERS =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** A game server's client per instance (pooled connections, its service token). */
  static WebClient gameServer(String url) {
    return GAME_SERVERS.computeIfAbsent(
        url,
        u ->
            WebClient.builder()
                .baseUrl(u)
                .filter(
                    (request, next) ->
                        next.exchange(
                            org.springframework.web.reactive.function.client.ClientRequest.from(
                                    request)
                                .headers(h -> h.setBearerAuth(serviceToken()))
                                .build()))
                .build());
  }

  private record Minted(String token, long atNanos) {}

  private static volatile Minted minted;

  /**
   * The game server's token, minted again a minute before its five minutes run out, as a game
   * server does (a run of more rounds outlasts one token).
   */
  static String serviceToken() {
    Minted current = minted;
    long now = System.nanoTime();
    if (current == null || now - current.atNanos() > Duration.ofMinutes(4).toNanos()) {
      current =
          new Minted(
              TestIdentity.shared()
                  .service(
                      "game-server", "game-state", "match.read", "match.results", "game.grant"),
              now);
      minted = current;
    }
    return current.token();
  }

  static double spearman(double[] skill, int[] rating) {
    return RankCorrelation.spearman(skill, Arrays.stream(rating).asDoubleStream().toArray());
  }
}
