package dev.citadel.gateway.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.management.OperatingSystemMXBean;
import dev.citadel.infra.junit.SharedInfra;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Flux;

/**
 * What the per-player limit costs a gateway per request, leased (up to 16 tokens an ask, the
 * default) against asking the bucket on every request (a lease of 1: what Spring Cloud Gateway's
 * own limiter does), in the same run on the same Redis: 128 players, 64 requests in flight, every
 * request under its player's limit as in bench-gateway.sh (a limit high enough for this pace: a
 * player here sends hundreds a second, so leases stay at 16; bench-gateway.sh's players, at 10-20 a
 * second, ask about once in 10-40 requests). Prints requests/s, the JVM's and Redis's CPU
 * microseconds per request, and the ratios; two rounds each, alternating. {@code ./mvnw -Pbenchmark
 * -pl gateway test -Dtest=RateLimiterBenchmarkTest}
 */
@Tag("benchmark")
class RateLimiterBenchmarkTest {
  static final int PLAYERS = 128;
  static final int IN_FLIGHT = 64;
  static final int REQUESTS = 200_000;

  record Figures(double perSecond, double jvmMicros, double redisMicros, long asks) {}

  @Test
  void a_leased_limit_costs_a_fraction_of_asking_redis_per_request() {
    LettuceConnectionFactory factory =
        new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    factory.start();
    try {
      LeasedRateLimiterTest.Counting redis = new LeasedRateLimiterTest.Counting(factory);
      run(redis, 1, REQUESTS / 4); // warm-up, not counted
      run(redis, 16, REQUESTS / 4);
      Figures[] perRequest = new Figures[2];
      Figures[] leased = new Figures[2];
      for (int round = 0; round < 2; round++) {
        perRequest[round] = run(redis, 1, REQUESTS);
        leased[round] = run(redis, 16, REQUESTS);
      }
      System.out.println();
      System.out.println(
          "| limiter (round) | requests/s | JVM CPU us each | Redis CPU us each | asks |");
      System.out.println("|---|---|---|---|---|");
      for (int round = 0; round < 2; round++) {
        print("ask per request (" + (round + 1) + ")", perRequest[round]);
        print("leased, up to 16 (" + (round + 1) + ")", leased[round]);
      }
      double jvm =
          (leased[0].jvmMicros() + leased[1].jvmMicros())
              / (perRequest[0].jvmMicros() + perRequest[1].jvmMicros());
      double redisShare =
          (leased[0].redisMicros() + leased[1].redisMicros())
              / (perRequest[0].redisMicros() + perRequest[1].redisMicros());
      System.out.printf(
          Locale.ROOT,
          "%nleased / per request, CPU per request: JVM %.2fx, Redis %.2fx (same run)%n",
          jvm,
          redisShare);
      assertThat(leased[1].asks()).isLessThan(perRequest[1].asks());
    } finally {
      factory.destroy();
    }
  }

  static void print(String name, Figures f) {
    System.out.printf(
        Locale.ROOT,
        "| %s | %,.0f | %.1f | %.1f | %,d |%n",
        name,
        f.perSecond(),
        f.jvmMicros(),
        f.redisMicros(),
        f.asks());
  }

  /** {@code requests} checks of random players, {@link #IN_FLIGHT} at a time. */
  static Figures run(LeasedRateLimiterTest.Counting redis, int maxLease, int requests) {
    // Never refused at this pace (refusals ask the bucket every time, leased or not).
    LeasedRateLimiter limiter =
        LeasedRateLimiterTest.limiter(redis, 100_000, 200_000, maxLease, System::nanoTime);
    String round = UUID.randomUUID().toString();
    AtomicLong allowed = new AtomicLong();
    AtomicLong answered = new AtomicLong();
    int asksBefore = redis.calls.get();
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    double redisBefore = redisCpuSeconds(redis);
    long cpuBefore = os.getProcessCpuTime();
    long started = System.nanoTime();
    Flux.range(0, requests)
        .flatMap(
            i ->
                limiter
                    .isAllowed("game", "player:" + round + ":" + (i % PLAYERS))
                    .doOnNext(
                        r -> {
                          answered.incrementAndGet();
                          if (r.isAllowed()) {
                            allowed.incrementAndGet();
                          }
                        }),
            IN_FLIGHT)
        .blockLast(Duration.ofMinutes(5));
    long elapsed = System.nanoTime() - started;
    long cpu = os.getProcessCpuTime() - cpuBefore;
    double redisCpu = redisCpuSeconds(redis) - redisBefore;
    assertThat(answered.get()).isEqualTo(requests);
    assertThat(allowed.get()).as("none refused").isEqualTo(requests);
    return new Figures(
        requests / (elapsed / 1e9),
        cpu / 1e3 / requests,
        redisCpu * 1e6 / requests,
        redis.calls.get() - asksBefore);
  }

  /** Redis's own CPU time so far (user + system), from INFO. */
  static double redisCpuSeconds(ReactiveStringRedisTemplate redis) {
    Properties info =
        redis
            .getConnectionFactory()
            .getReactiveConnection()
            .serverCommands()
            .info("cpu")
            .block(Duration.ofSeconds(5));
    return Double.parseDouble(info.getProperty("used_cpu_user"))
        + Double.parseDouble(info.getProperty("used_cpu_sys"));
  }
}
