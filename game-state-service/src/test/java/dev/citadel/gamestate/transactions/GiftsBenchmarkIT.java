package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Gift transactions per second and latency, for pairs on the same instance and pairs across the two
 * instances, next to a single-player command through the same HTTP path (the baseline). Run with
 * {@code ./mvnw -Pbenchmark -pl game-state-service -am verify}.
 */
@Tag("benchmark")
@CitadelInfra
class GiftsBenchmarkIT {
  static final int SECONDS = Integer.getInteger("bench.tx.seconds", 10);

  /**
   * Each operation runs this long, unmeasured, before it is measured: fresh JVMs spend the first
   * minute largely compiling (bench-gateway.sh found a fifth of a warm-ish JVM's CPU in the JIT).
   */
  static final int WARM_UP_SECONDS = Integer.getInteger("bench.tx.warm-up", 20);

  static final int CONCURRENCY = 16;
  static TwoInstances cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = new TwoInstances("game_state_tx_bench", Map.of());
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  record Figures(String name, int count, double perSecond, double p50, double p99) {}

  @Test
  void same_instance_and_cross_instance_gift_throughput() throws Exception {
    List<String> onA = new ArrayList<>();
    List<String> onB = new ArrayList<>();
    for (int i = 0; onA.size() < 64 || onB.size() < 64; i++) {
      String id = "bench-" + i;
      (cluster.owner(id).equals(cluster.urls.get(0)) ? onA : onB).add(id);
    }
    List<String> all = new ArrayList<>(onA.subList(0, 64));
    all.addAll(onB.subList(0, 64));
    cluster.register(all);
    Flux.fromIterable(all)
        .flatMap(
            p ->
                cluster.grant(
                    p,
                    "start-" + p,
                    Map.of(
                        "gold",
                        1_000_000,
                        "items",
                        List.of(Map.of("itemId", "potion", "quantity", 10_000)))),
            16)
        .blockLast(Duration.ofSeconds(60));

    Figures baseline =
        run(
            "single-player command (baseline)",
            () -> {
              String p = pick(all);
              return command(p, "use-item", Map.of("itemId", "potion", "quantity", 1));
            });
    Figures same =
        run(
            "gift, both players on one instance",
            () -> {
              List<String> side =
                  ThreadLocalRandom.current().nextBoolean()
                      ? onA.subList(0, 64)
                      : onB.subList(0, 64);
              return gift(side);
            });
    Figures cross =
        run(
            "gift, players on different instances",
            () -> {
              String from =
                  pick(
                      ThreadLocalRandom.current().nextBoolean()
                          ? onA.subList(0, 64)
                          : onB.subList(0, 64));
              List<String> other = onA.contains(from) ? onB.subList(0, 64) : onA.subList(0, 64);
              return giftBetween(from, pick(other));
            });

    StringBuilder report = new StringBuilder();
    report.append(
        String.format(
            Locale.ROOT,
            "### Two-phase commit (gifts), %d s each after %d s of warm-up, %d clients%n%n",
            SECONDS,
            WARM_UP_SECONDS,
            CONCURRENCY));
    report.append(
        "| operation | per second | p50 | p99 | ratio to baseline |\n|---|---|---|---|---|\n");
    for (Figures f : List.of(baseline, same, cross)) {
      report.append(
          String.format(
              Locale.ROOT,
              "| %s | %,.0f | %.1f ms | %.1f ms | %.2fx |%n",
              f.name(),
              f.perSecond(),
              f.p50(),
              f.p99(),
              f.perSecond() / baseline.perSecond()));
    }
    System.out.println(report);
    Files.createDirectories(Path.of("target", "benchmarks"));
    Files.writeString(Path.of("target", "benchmarks", "two-phase-commit.md"), report.toString());
    assertThat(same.count()).isPositive();
    assertThat(cross.count()).isPositive();
  }

  interface Call {
    Mono<Void> next();
  }

  Figures run(String name, Call call) {
    drive(
        call,
        WARM_UP_SECONDS,
        Collections.synchronizedList(new ArrayList<>()),
        new AtomicInteger());
    List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger failed = new AtomicInteger();
    double seconds = drive(call, SECONDS, latencies, failed);
    List<Long> sorted = new ArrayList<>(latencies);
    Collections.sort(sorted);
    System.out.println(
        "[bench] " + name + ": " + sorted.size() + " ok, " + failed.get() + " refused");
    return new Figures(
        name,
        sorted.size(),
        sorted.size() / seconds,
        sorted.get(sorted.size() / 2) / 1e6,
        sorted.get((int) (sorted.size() * 0.99)) / 1e6);
  }

  /** {@link #CONCURRENCY} clients call for {@code forSeconds}; answers the seconds it took. */
  static double drive(Call call, int forSeconds, List<Long> latencies, AtomicInteger failed) {
    long start = System.nanoTime();
    long end = start + Duration.ofSeconds(forSeconds).toNanos();
    Flux.range(0, CONCURRENCY)
        .flatMap(
            c ->
                Mono.defer(
                        () -> {
                          long t0 = System.nanoTime();
                          return call.next()
                              .doOnSuccess(v -> latencies.add(System.nanoTime() - t0))
                              .onErrorResume(
                                  e -> {
                                    failed.incrementAndGet();
                                    return Mono.empty();
                                  });
                        })
                    .repeat(() -> System.nanoTime() < end),
            CONCURRENCY)
        .blockLast(Duration.ofSeconds(forSeconds + 60));
    return (System.nanoTime() - start) / 1e9;
  }

  static String pick(List<String> players) {
    return players.get(ThreadLocalRandom.current().nextInt(players.size()));
  }

  Mono<Void> gift(List<String> players) {
    String from = pick(players);
    String to = pick(players);
    while (to.equals(from)) {
      to = pick(players);
    }
    return giftBetween(from, to);
  }

  Mono<Void> giftBetween(String from, String to) {
    return TwoInstances.client(cluster.owner(from))
        .post()
        .uri("/api/game/players/{id}/gifts", from)
        .headers(h -> h.setBearerAuth(TwoInstances.token(from)))
        .bodyValue(Map.of("to", to, "gold", 1))
        .retrieve()
        .toBodilessEntity()
        .then();
  }

  Mono<Void> command(String player, String name, Map<String, Object> body) {
    return TwoInstances.client(cluster.owner(player))
        .post()
        .uri("/api/game/players/{id}/commands/{name}", player, name)
        .headers(h -> h.setBearerAuth(TwoInstances.token(player)))
        .bodyValue(body)
        .retrieve()
        .toBodilessEntity()
        .then();
  }
}
