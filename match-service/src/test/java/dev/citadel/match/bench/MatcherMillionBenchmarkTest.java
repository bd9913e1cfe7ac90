package dev.citadel.match.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.Matchmaking;
import dev.citadel.match.domain.SkillWindow;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.matcher.Matcher;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Flux;

/**
 * The matcher with a million players waiting: the queue is kept at its size (as many newcomers join
 * between ticks as the last tick matched), every tick forms at most {@code per-tick} matches (the
 * service's own bound unless told), pops them in Redis and sends each {@code match.found} to Kafka.
 * Prints tick time p50 / p99 (the first tick, which reads the queue whole, and the warm-up ticks
 * after it apart), matches per second of tick time, and the same run's baseline: a tick as it was
 * before the change feed (the whole queue read, in pages since 2026-12-07, then sorted and walked).
 * Nothing is lost: every player is still waiting or in exactly one pending match. Run with {@code
 * ./mvnw -Pbenchmark -pl match-service -am package -Dtest=MatcherMillionBenchmarkTest} ({@code
 * -Dbench.matcher.players=}, {@code .per-tick=}, {@code .ticks=}, {@code .warm-up=}).
 */
@Tag("benchmark")
@CitadelInfra
class MatcherMillionBenchmarkTest {
  static final int PLAYERS = Integer.getInteger("bench.matcher.players", 1_000_000);
  static final int PER_TICK =
      Integer.getInteger("bench.matcher.per-tick", Matcher.Settings.DEFAULT_MAX_MATCHES_PER_TICK);
  static final int TICKS = Integer.getInteger("bench.matcher.ticks", 100);

  /**
   * Ticks run first and reported apart: the JIT compiles the tick's code in them (the first ticks
   * after the whole read take up to twice as long), as it has in a matcher that has been running.
   */
  static final int WARM_UP = Integer.getInteger("bench.matcher.warm-up", 20);

  static final int BASELINE_RUNS = 5;
  static final int BATCH = 1000;

  static LettuceConnectionFactory factory;
  static Queues queues;
  static ReactorKafkaPublisher publisher;
  final Random random = new Random(7);

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    queues = new Queues(new ReactiveStringRedisTemplate(factory));
    publisher =
        new ReactorKafkaPublisher(
            KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "matcher-bench"));
  }

  @AfterAll
  static void close() {
    factory.destroy();
  }

  List<Ticket> newcomers(int n, long now) {
    List<Ticket> t = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int elo = (int) Math.max(0, Math.min(4000, Math.round(1500 + 300 * random.nextGaussian())));
      // (The enqueue script stamps its own time: see join.)
      t.add(new Ticket("m-" + UUID.randomUUID(), elo, now, "n"));
    }
    return t;
  }

  /**
   * {@code n} players join, in batches of {@link #BATCH}, each batch stamped up to {@code spreadMs}
   * earlier than {@code now} (the first million have waited up to a minute, so windows and the
   * oldest-first choice differ as in a queue that has run a while).
   */
  void join(String queue, int n, long now, int spreadMs) {
    Flux.range(0, (n + BATCH - 1) / BATCH)
        .flatMap(
            b -> {
              long at = now - random.nextInt(spreadMs + 1);
              return queues.enqueue(
                  queue, newcomers(Math.min(BATCH, n - b * BATCH), at), at, false);
            },
            2)
        .blockLast(Duration.ofMinutes(10));
  }

  static double percentile(List<Long> nanos, double p) {
    List<Long> sorted = new ArrayList<>(nanos);
    sorted.sort(null);
    int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
    return sorted.get(Math.max(0, i)) / 1e6;
  }

  @Test
  void a_million_waiting() {
    String queue = "million";
    long started = System.nanoTime();
    join(queue, PLAYERS, System.currentTimeMillis(), 60_000);
    double loadSeconds = (System.nanoTime() - started) / 1e9;
    SkillWindow window = new SkillWindow(100, 25, 1000, 60_000);

    // Baseline, same run, same queue: the whole queue read and sorted for every tick.
    List<Long> fullReads = new ArrayList<>();
    for (int i = 0; i < BASELINE_RUNS; i++) {
      long t0 = System.nanoTime();
      List<Ticket> all = queues.snapshot(queue).block(Duration.ofMinutes(2));
      Matchmaking.form(all, System.currentTimeMillis(), window, 10);
      fullReads.add(System.nanoTime() - t0);
    }

    Matcher matcher =
        new Matcher(
            queues,
            new HandOff(publisher, "match.found.bench", new SimpleMeterRegistry()),
            new Matcher.Settings(
                10, window, Duration.ofMinutes(5), Duration.ofSeconds(30), PER_TICK),
            Clock.systemUTC(),
            new SimpleMeterRegistry());
    long t0 = System.nanoTime();
    int formed = matcher.tick(queue).block(Duration.ofMinutes(2));
    long firstTick = System.nanoTime() - t0;
    long joined = PLAYERS;
    List<Long> ticks = new ArrayList<>();
    long firstFormed = formed;
    long matches = formed;
    List<Long> warmUp = new ArrayList<>();
    for (int i = 0; i < WARM_UP + TICKS; i++) {
      join(queue, formed * 10, System.currentTimeMillis(), 0); // the queue stays at its size
      joined += formed * 10L;
      long s = System.nanoTime();
      formed = matcher.tick(queue).block(Duration.ofMinutes(2));
      (i < WARM_UP ? warmUp : ticks).add(System.nanoTime() - s);
      if (i < WARM_UP) {
        firstFormed += formed;
      }
      matches += formed;
    }
    double tickSeconds = ticks.stream().mapToLong(Long::longValue).sum() / 1e9;

    Map<String, Long> counts = queues.counts(queue).block();
    long waiting = counts.get("waiting");
    long matched = counts.get("matched");
    System.out.printf(
        "%n=== Matcher, %,d waiting (Redis %s, %,d joined in %.1f s), at most %,d matches a tick"
            + " ===%n",
        PLAYERS, SharedInfra.redis().url(), PLAYERS, loadSeconds, PER_TICK);
    System.out.println("| tick | p50 | p99 | max | matches per second of tick time |");
    System.out.println("|---|---|---|---|---|");
    System.out.printf(
        "| change feed (%d ticks after the warm-up) | %.1f ms | %.1f ms | %.1f ms | %,.0f |%n",
        TICKS,
        percentile(ticks, 50),
        percentile(ticks, 99),
        percentile(ticks, 100),
        (matches - firstFormed) / Math.max(tickSeconds, 1e-9));
    System.out.printf("| first tick (reads the queue whole) | %.1f ms | | | |%n", firstTick / 1e6);
    if (!warmUp.isEmpty()) {
      System.out.printf(
          "| the %d warm-up ticks after it | %.1f ms | %.1f ms | %.1f ms | |%n",
          WARM_UP, percentile(warmUp, 50), percentile(warmUp, 99), percentile(warmUp, 100));
    }
    System.out.printf(
        "| baseline: whole read + sort + walk only, no pops or sends (%d runs; max in the p99"
            + " column) | %.1f ms | %.1f ms | | |%n",
        BASELINE_RUNS, percentile(fullReads, 50), percentile(fullReads, 100));
    System.out.printf(
        "baseline / change feed, p50: %.1fx; waiting at the end %,d, in pending matches %,d,"
            + " matches formed %,d, players joined %,d%n",
        percentile(fullReads, 50) / percentile(ticks, 50), waiting, matched, matches, joined);

    // Nothing lost: everyone who joined is waiting or in exactly one pending match.
    assertThat(waiting + matched).isEqualTo(joined);
    assertThat(matched).isEqualTo(matches * 10);
  }
}
