package dev.citadel.match.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.match.GameStateProcess;
import dev.citadel.match.MatchServiceProcess;
import dev.citadel.match.domain.SkillWindow;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.matcher.Matcher;
import dev.citadel.match.queue.QueueState;
import dev.citadel.match.queue.QueueStatus;
import dev.citadel.match.queue.Queues;
import dev.citadel.web.testing.TestIdentity;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import reactor.core.Disposable;

/**
 * The matcher as a real process that is killed (SIGKILL) or frozen (SIGSTOP) while it works. The
 * match-service under test runs from this module's class path in its own JVM and is the only
 * matcher of the queues {@code sigkill} and {@code paused}; this JVM's match-service serves another
 * queue and is only the second replica of the lifecycle consumers.
 */
@CitadelInfra
@SpringBootTest
@ActiveProfiles("loadtest")
// Its context must not outlive the class: it is a member of the lifecycle consumer group.
@org.springframework.test.annotation.DirtiesContext(
    classMode = org.springframework.test.annotation.DirtiesContext.ClassMode.AFTER_CLASS)
class MatcherProcessFaultsTest {
  static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  static final String KILLED = "sigkill";
  static final String PAUSED = "paused";
  static final Duration LOCK_TTL = Duration.ofSeconds(1);
  static final int CROWD = 40_000;

  /** Matchable players per freeze: 600 matches, more than four pop calls of 100 at once. */
  static final int WAVE = 6_000;

  static ServiceProcess gameState;
  static ServiceProcess matcher;

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    TestIdentity.shared()
        .serviceProperties("match-service")
        .forEach((k, v) -> registry.add(k, () -> v));
    registry.add("spring.data.redis.url", () -> SharedInfra.redis().url());
    registry.add("citadel.kafka.bootstrap-servers", () -> SharedInfra.kafka().bootstrapServers());
    registry.add("citadel.match.queues", () -> "other");
    registry.add("citadel.match.room-timeout", () -> "2s");
  }

  @BeforeAll
  static void start() throws Exception {
    gameState = GameStateProcess.start("game-state-matcher-faults", "game_state_matcher_faults");
    Map<String, String> env = new HashMap<>();
    env.put("CITADEL_MATCH_QUEUES", KILLED + "," + PAUSED);
    env.put("CITADEL_MATCH_ROOMTIMEOUT", "2s");
    env.put("CITADEL_MATCH_LOCKTTL", LOCK_TTL.toSeconds() + "s");
    env.put("CITADEL_MATCH_TICKINTERVAL", "50ms");
    // The far-apart players of the paused test must never be grouped while it runs.
    env.put("CITADEL_MATCH_WINDOW_MAXWAIT", "10m");
    matcher = MatchServiceProcess.start("match-service-matcher", env);
  }

  @AfterAll
  static void stop() {
    for (ServiceProcess p : new ServiceProcess[] {matcher, gameState}) {
      if (p != null) {
        try {
          p.resume();
        } finally {
          p.stop(Duration.ofSeconds(20));
        }
      }
    }
  }

  @Autowired ReactiveStringRedisTemplate redis;
  @Autowired HandOff handOff;

  Queues queues() {
    return new Queues(redis, List.of(KILLED, PAUSED, "other"));
  }

  static List<Ticket> players(String tag, int count, int elo, int step) {
    List<Ticket> tickets = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      tickets.add(new Ticket(tag + "-" + i + "-" + UUID.randomUUID(), elo + i * step, 0, "p"));
    }
    return tickets;
  }

  /** Every one of them is in a game, and every game has exactly ten of them. */
  void assertEveryoneInExactlyOneFullMatch(Queues queues, String queue, List<Ticket> all) {
    Map<String, Integer> perMatch = new HashMap<>();
    for (Ticket t : all) {
      QueueStatus s = queues.status(queue, t.playerId()).block();
      assertThat(s.state()).as(t.playerId()).isEqualTo(QueueState.IN_GAME);
      perMatch.merge(s.matchId(), 1, Integer::sum);
    }
    assertThat(perMatch).hasSize(all.size() / 10).allSatisfy((m, n) -> assertThat(n).isEqualTo(10));
  }

  @Test
  void a_matcher_killed_at_any_point_of_its_work_loses_and_duplicates_no_player()
      throws InterruptedException {
    Queues queues = queues();
    List<Ticket> all = new ArrayList<>();
    for (int round = 0; round < 2; round++) {
      List<Ticket> wave = players("kill" + round, 1_000, 1500, 0);
      all.addAll(wave);
      long waitingBefore = queues.counts(KILLED).block().get("waiting");
      queues.enqueue(KILLED, wave, System.currentTimeMillis()).block();
      // Killed as soon as one pop took the wave out (one script): in the middle of its 100
      // hand-offs, or just after them.
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofMillis(2))
          .until(() -> queues.counts(KILLED).block().get("waiting") <= waitingBefore);
      matcher.kill();
      matcher = matcher.restart();
      matcher.awaitHealthy(Duration.ofSeconds(120));
    }

    // Whatever was popped but never sent is re-sent from its pending record.
    await()
        .atMost(Duration.ofSeconds(120))
        .until(() -> queues.counts(KILLED).block().get("inGame") >= all.size());
    assertEveryoneInExactlyOneFullMatch(queues, KILLED, all);
  }

  @Test
  void a_matcher_frozen_past_its_lock_ttl_puts_nobody_in_two_matches() throws Exception {
    Queues queues = queues();
    // The matcher reads the queue (its depth gauge counts a new wave right after), forms the
    // wave's 600 matches and pops them 100 a script call, four calls at a time, each followed by
    // its 100 hand-offs to Kafka: the later pops come long after the read. The test freezes the
    // matcher as soon as the gauge counts the wave, so, often enough, between its first pops and
    // its last. A crowd that never matches stays in the queue throughout.
    redis.delete("{mq}:" + PAUSED + ":tickets").block();
    List<Ticket> crowd = players("crowd", CROWD, 10_000, 5_000);
    for (int i = 0; i < CROWD; i += 2_000) {
      queues
          .enqueue(PAUSED, crowd.subList(i, i + 2_000), System.currentTimeMillis(), false)
          .block();
    }
    Matcher second =
        new Matcher(
            queues,
            handOff,
            new Matcher.Settings(
                10, new SkillWindow(100, 25, 1000, 600_000), Duration.ofSeconds(2), LOCK_TTL),
            Clock.systemUTC(),
            new SimpleMeterRegistry());
    List<Ticket> matchable = new ArrayList<>();
    int rounds = 0;
    while (skipped() == 0 && rounds < 20) {
      rounds++;
      List<Ticket> wave = players("close" + rounds, WAVE, 1500, 0);
      matchable.addAll(wave);
      queues.enqueue(PAUSED, wave, System.currentTimeMillis()).block();
      await()
          .atMost(Duration.ofSeconds(30))
          .pollInterval(Duration.ofMillis(1))
          .until(() -> metric("citadel_match_queue_depth{", "queue=\"" + PAUSED + "\"") > CROWD);
      matcher.pause();
      // Its lock lapses; the second matcher takes the queue and matches the wave.
      Disposable takeover = second.start(List.of(PAUSED), Duration.ofMillis(50));
      try {
        List<Ticket> current = wave;
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    current.stream()
                        .noneMatch(
                            t ->
                                "WAITING"
                                    .equals(
                                        queues
                                            .status(PAUSED, t.playerId())
                                            .block()
                                            .state()
                                            .name())));
      } finally {
        matcher.resume();
      }
      takeover.dispose();
      // Back from the freeze, it finishes its stale tick (the groups it read are gone), then
      // holds the queue again.
      // Two ticks: the stale one that was frozen, then a fresh read (the gauge counts no wave).
      double atResume = ticks();
      await().atMost(Duration.ofSeconds(30)).until(() -> ticks() > atResume + 1);
    }
    System.out.printf("frozen %d times, %.0f stale groups skipped%n", rounds, skipped());
    assertThat(skipped())
        .as("in %d freezes, at least one landed between a read and its pop", rounds)
        .isPositive();

    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                matchable.stream()
                    .allMatch(
                        t ->
                            "IN_GAME"
                                .equals(
                                    queues.status(PAUSED, t.playerId()).block().state().name())));
    assertEveryoneInExactlyOneFullMatch(queues, PAUSED, matchable);
    assertThat(queues.counts(PAUSED).block().get("waiting")).as("the crowd").isEqualTo(CROWD);
    redis.delete("{mq}:" + PAUSED + ":tickets").block();
  }

  double ticks() throws Exception {
    return metric("citadel_matcher_tick_seconds_count{", "queue=\"" + PAUSED + "\"");
  }

  double skipped() throws Exception {
    return metric("citadel_match_groups_skipped_total", "");
  }

  /** A figure from the matcher process's Prometheus page (0 if not there yet). */
  static double metric(String name, String label) throws Exception {
    String page =
        HTTP.send(
                HttpRequest.newBuilder(URI.create(matcher.management() + "/actuator/prometheus"))
                    .timeout(Duration.ofSeconds(5))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    return page.lines()
        .filter(l -> l.startsWith(name) && l.contains(label))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }
}
