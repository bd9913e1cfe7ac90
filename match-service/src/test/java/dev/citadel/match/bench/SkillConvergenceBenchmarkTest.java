package dev.citadel.match.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.gamestate.http.CommandParser;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.results.QueueRules;
import dev.citadel.gamestate.results.ResultPlan;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.SkillWindow;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.matcher.Matcher;
import dev.citadel.match.queue.Enqueued;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.match.v1.MatchFound;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.protocol.match.v1.Result;
import dev.citadel.web.testing.ManualClock;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Flux;

/**
 * Do ratings find the players' real skill? 10,000 players with a hidden true skill (normal, mean
 * 1200, sd 200, 400, 800 and 1600 unless {@code -Dbench.convergence.spreads=} says otherwise) all
 * start at the initial rating. Each round every player queues once with their current rating and
 * plays one match: the real {@link Matcher} forms the matches in Redis (its window, its
 * oldest-first order, a tick every 200 ms of a clock the test moves) and sends {@code match.found}
 * to Kafka; each match is read back from Kafka as game-state reads it, its winner drawn from the
 * two teams' average true skills (logistic, Elo's own model), and its result applied through
 * game-state's production code ({@link ResultPlan} steps, parsed as the participants parse them,
 * decided and applied by {@link Player}, in memory: the domain alone, not the two-phase commit over
 * HTTP, which {@code ResultsBenchmarkIT} measures); the match is then ended in Redis, as
 * game-state's {@code match.ended} does, so its players can queue again.
 *
 * <p>Printed per spread: the rank correlation between rating and true skill after rounds 1, 10, 20
 * and 30, the rounds needed to pass 0.9, results applied per second, the matcher's time per round,
 * and the bound: the best correlation any rating system could reach from that many 5 vs 5 results.
 * The goal (0.9 within 30 rounds) is above that bound unless true skill is spread wider
 * than about 650 Elo points; see docs/game-loop.md.
 *
 * <p>{@code ./mvnw -Pbenchmark -pl match-service -am package -Dtest=SkillConvergenceBenchmarkTest}
 * ({@code -Dbench.convergence.players=}, {@code .rounds=}, {@code .spreads=200,400,800,1600}).
 */
@Tag("benchmark")
@CitadelInfra
class SkillConvergenceBenchmarkTest {
  /** Whole matches only: a remainder would wait for partners that never come. */
  static final int PLAYERS = Integer.getInteger("bench.convergence.players", 10_000) / 10 * 10;

  static final int ROUNDS = Integer.getInteger("bench.convergence.rounds", 30);
  static final double[] SPREADS =
      Arrays.stream(System.getProperty("bench.convergence.spreads", "200,400,800,1600").split(","))
          .mapToDouble(Double::parseDouble)
          .toArray();

  /** The queue whose ratings change (each run queues in Redis under a name of its own). */
  static final String QUEUE = "ranked";

  static final QueueRules RULES =
      new QueueRules(
          1200,
          24,
          48,
          10,
          new QueueRules.Reward(100, 300),
          new QueueRules.Reward(25, 100),
          new QueueRules.Reward(50, 200));

  /** The service's own window (application.yml) and tick interval. */
  static final SkillWindow WINDOW = new SkillWindow(100, 25, 1000, 60_000);

  static final Duration TICK = Duration.ofMillis(200);

  /** A round that has not matched everyone after this many ticks (two minutes of clock) fails. */
  static final int MAX_TICKS_A_ROUND = 600;

  /**
   * Its own presence stream: every ended match appends a LOBBY entry per player (1.2 million in a
   * run), which the service's presence relay in another benchmark of this JVM would otherwise send.
   */
  static final String PRESENCE = "{mq}:presence-convergence-" + UUID.randomUUID();

  static LettuceConnectionFactory factory;
  static ReactiveStringRedisTemplate redis;
  static Queues queues;
  static ReactorKafkaPublisher publisher;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    redis = new ReactiveStringRedisTemplate(factory);
    queues = new Queues(redis, List.of(), PRESENCE);
    publisher =
        new ReactorKafkaPublisher(
            KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "convergence-bench"));
  }

  @AfterAll
  static void close() {
    redis.delete(PRESENCE).block(Duration.ofMinutes(1));
    publisher.close();
    factory.destroy();
  }

  /** One run: the spread of true skill, the correlation after each round, the throughputs. */
  record Run(
      double spread,
      double[] rho,
      int passed,
      double resultsPerSecond,
      double matcherSecondsARound) {}

  @Test
  void ratings_rank_players_like_their_true_skill_within_thirty_rounds() {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            "%nSkill convergence: %,d players, %d rounds, 5 vs 5 formed by the Redis matcher, one"
                + " match per player per round%n",
            PLAYERS, ROUNDS));
    out.append(
        String.format(
            "| true skill sd | bound after %d | round 1 | 10 | 20 | %d | rounds to 0.9 | results/s"
                + " | matcher s a round |%n",
            ROUNDS, ROUNDS));
    out.append("|---|---|---|---|---|---|---|---|---|\n");
    List<Run> runs = new ArrayList<>();
    for (double spread : SPREADS) {
      Run run = converge(spread);
      runs.add(run);
      out.append(
          String.format(
              "| %.0f | %.2f | %.3f | %.3f | %.3f | %.3f | %s | %,.0f | %.2f |%n",
              spread,
              bound(spread, ROUNDS),
              run.rho()[0],
              run.rho()[Math.min(9, ROUNDS - 1)],
              run.rho()[Math.min(19, ROUNDS - 1)],
              run.rho()[ROUNDS - 1],
              run.passed() < 0 ? "not within " + ROUNDS : Integer.toString(run.passed()),
              run.resultsPerSecond(),
              run.matcherSecondsARound()));
    }
    out.append(
        "bound: the highest correlation any rating system can reach from that many team results "
            + "(Fisher information of a 50/50 game for one player of ten); results/s: applied in"
            + " memory by the production code\n");
    System.out.print(out);
    // Ratings learn skill steadily in every spread, and come near what the results allow.
    for (Run run : runs) {
      assertThat(run.rho()[ROUNDS - 1])
          .as("sd %.0f: ratings learn skill", run.spread())
          .isGreaterThan(run.rho()[0] + 0.2);
      assertThat(run.rho()[ROUNDS - 1])
          .as("sd %.0f: near the information bound", run.spread())
          .isGreaterThan(bound(run.spread(), ROUNDS) - 0.15);
    }
  }

  /**
   * The correlation an unbiased estimate of one player's skill can reach at best after {@code
   * games} team results: each result carries at most a quarter of (ln 10 / 400 / 5)^2 of Fisher
   * information about one player of five (a 50/50 game, everyone else's skill known), so the
   * estimate's error is at least 1 / sqrt(information).
   */
  static double bound(double spread, int games) {
    double beta = Math.log(10) / 400 / 5;
    double error = 1 / Math.sqrt(games * 0.25 * beta * beta);
    return spread / Math.sqrt(spread * spread + error * error);
  }

  static Run converge(double spread) {
    Random random = new Random(42);
    String run = "conv" + (int) spread + "-" + UUID.randomUUID().toString().substring(0, 8);
    String topic = "match.found." + run;
    double[] skill = new double[PLAYERS];
    PlayerState[] state = new PlayerState[PLAYERS];
    Instant t = Instant.parse("2026-12-05T00:00:00Z");
    for (int i = 0; i < PLAYERS; i++) {
      skill[i] = 1200 + spread * random.nextGaussian();
      state[i] =
          Player.replay(
              PlayerState.initial(id(run, i)),
              List.of(new PlayerEvent.PlayerCreated(id(run, i), "player" + i, t)));
    }
    ManualClock clock = new ManualClock(Instant.parse("2026-12-05T00:00:00Z"));
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Matcher matcher =
        new Matcher(
            queues,
            new HandOff(publisher, topic, meters),
            new Matcher.Settings(
                10,
                WINDOW,
                Duration.ofMinutes(30),
                Duration.ofSeconds(30),
                Matcher.Settings.DEFAULT_MAX_MATCHES_PER_TICK),
            clock,
            meters);
    int passed = -1;
    double[] rhos = new double[ROUNDS];
    long results = 0;
    long applyNanos = 0;
    long matcherNanos = 0;
    try (KafkaConsumer<String, byte[]> found = consumer(topic)) {
      for (int round = 1; round <= ROUNDS; round++) {
        enqueueEveryone(run, state, clock.millis()); // the run's own queue in Redis
        long m0 = System.nanoTime();
        int matches = 0;
        for (int tick = 0; matches * 10 < PLAYERS; tick++) {
          assertThat(tick)
              .as("round %d: everyone matched within %d ticks", round, MAX_TICKS_A_ROUND)
              .isLessThan(MAX_TICKS_A_ROUND);
          matches += matcher.tick(run).block(Duration.ofMinutes(1));
          clock.advance(TICK);
        }
        matcherNanos += System.nanoTime() - m0;
        List<MatchFound> round_ = read(found, matches);
        long started = System.nanoTime();
        for (MatchFound match : round_) {
          apply(match, skill, state, random);
        }
        applyNanos += System.nanoTime() - started;
        results += round_.size();
        Flux.fromIterable(round_)
            .flatMap(
                m ->
                    queues.endMatch(
                        run,
                        m.getMatchId(),
                        m.getPlayersList().stream().map(MatchedPlayer::getPlayerId).toList()),
                16)
            .blockLast(Duration.ofMinutes(1));
        rhos[round - 1] = spearman(skill, state);
        if (passed < 0 && rhos[round - 1] > 0.9) {
          passed = round;
        }
      }
    }
    return new Run(spread, rhos, passed, results / (applyNanos / 1e9), matcherNanos / 1e9 / ROUNDS);
  }

  static String id(String run, int i) {
    return run + "-" + i;
  }

  static int index(String playerId) {
    return Integer.parseInt(playerId.substring(playerId.lastIndexOf('-') + 1));
  }

  /** Everyone queues with their current rating, in batches of 1,000; each must be taken. */
  static void enqueueEveryone(String run, PlayerState[] state, long now) {
    List<Enqueued> outcomes =
        Flux.range(0, (PLAYERS + 999) / 1000)
            .concatMap(
                b -> {
                  List<Ticket> batch = new ArrayList<>();
                  for (int i = b * 1000; i < Math.min(PLAYERS, (b + 1) * 1000); i++) {
                    batch.add(
                        new Ticket(
                            id(run, i),
                            state[i].ratingIn(QUEUE, RULES.initialRating()).rating(),
                            now,
                            "n" + i));
                  }
                  return queues.enqueue(run, batch, now, false).flatMapIterable(l -> l);
                })
            .collectList()
            .block(Duration.ofMinutes(1));
    assertThat(outcomes).allMatch(e -> e.outcome() == Enqueued.Outcome.OK);
  }

  static KafkaConsumer<String, byte[]> consumer(String topic) {
    KafkaConsumer<String, byte[]> c =
        new KafkaConsumer<>(
            Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG,
                SharedInfra.kafka().bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG,
                topic,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "earliest",
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG,
                StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class));
    c.subscribe(List.of(topic));
    return c;
  }

  /** The round's {@code match.found}, read from Kafka until all {@code matches} have come. */
  static List<MatchFound> read(KafkaConsumer<String, byte[]> consumer, int matches) {
    List<MatchFound> found = new ArrayList<>(matches);
    long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
    while (found.size() < matches) {
      assertThat(System.nanoTime()).as("all match.found read in time").isLessThan(deadline);
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        MatchFound m;
        try {
          m = MatchFound.parseFrom(r.value());
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          throw new IllegalStateException(e);
        }
        if (!m.getCancel()) { // (no expiry loop runs here to send one; skipped all the same)
          found.add(m);
        }
      }
    }
    assertThat(found).hasSize(matches);
    return found;
  }

  /** The winner drawn from true skill; the result applied as game-state applies it. */
  static void apply(MatchFound match, double[] skill, PlayerState[] state, Random random) {
    double[] teamSkill = new double[2];
    int[] teamSize = new int[2];
    for (MatchedPlayer p : match.getPlayersList()) {
      teamSkill[p.getTeam()] += skill[index(p.getPlayerId())];
      teamSize[p.getTeam()]++;
    }
    double gap = teamSkill[1] / teamSize[1] - teamSkill[0] / teamSize[0];
    double team0Wins = 1 / (1 + Math.pow(10, gap / 400));
    Result result =
        random.nextDouble() < team0Wins ? Result.RESULT_TEAM_0_WON : Result.RESULT_TEAM_1_WON;
    for (Step step :
        ResultPlan.steps(match.getMatchId(), QUEUE, match.getPlayersList(), result, RULES)) {
      int p = index(step.playerId());
      PlayerCommand command = CommandParser.participantCommand(step.command(), step.args());
      state[p] = Player.replay(state[p], Player.decide(command, state[p]));
    }
  }

  /** Spearman's rank correlation between true skill and rating. */
  static double spearman(double[] skill, PlayerState[] state) {
    double[] ratings = new double[state.length];
    for (int i = 0; i < state.length; i++) {
      ratings[i] = state[i].ratingIn(QUEUE, RULES.initialRating()).rating();
    }
    return RankCorrelation.spearman(skill, ratings);
  }
}
