package dev.citadel.gateway.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.FreePorts;
import dev.citadel.infra.junit.SharedInfra;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.cloud.gateway.filter.ratelimit.RateLimiter.Response;
import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.data.redis.connection.RedisStandaloneConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceClientConfiguration;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The leased limiter against a real Redis: what it admits, and how often it asks. */
class LeasedRateLimiterTest {
  static final String ROUTE = "game";
  static LettuceConnectionFactory factory;

  /** A template that counts the bucket script's calls. */
  static class Counting extends ReactiveStringRedisTemplate {
    final AtomicInteger calls = new AtomicInteger();

    Counting(LettuceConnectionFactory factory) {
      super(factory);
    }

    @Override
    public <T> Flux<T> execute(RedisScript<T> script, List<String> keys, List<?> args) {
      calls.incrementAndGet();
      return super.execute(script, keys, args);
    }
  }

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    factory.start();
  }

  @AfterAll
  static void close() {
    factory.destroy();
  }

  static LeasedRateLimiter limiter(
      ReactiveStringRedisTemplate redis, int perSecond, int burst, AtomicLong clock) {
    return limiter(redis, perSecond, burst, 16, clock::get);
  }

  /** A limiter with the gateway's settings (1 s leases) but these limits and this clock. */
  static LeasedRateLimiter limiter(
      ReactiveStringRedisTemplate redis,
      int perSecond,
      int burst,
      int maxLease,
      LongSupplier clock) {
    LeasedRateLimiter limiter =
        new LeasedRateLimiter(
            redis, LeasedRateLimiter.script(), null, maxLease, Duration.ofSeconds(1), clock);
    limiter
        .getConfig()
        .put(
            "defaultFilters",
            new RedisRateLimiter.Config()
                .setReplenishRate(perSecond)
                .setBurstCapacity(burst)
                .setRequestedTokens(1));
    return limiter;
  }

  /** What the player's shared bucket holds now. */
  static double bucketTokens(ReactiveStringRedisTemplate redis, String player) {
    return Double.parseDouble(
        redis.opsForValue().get(LeasedRateLimiter.bucket(player) + "tokens").block());
  }

  static boolean allowed(LeasedRateLimiter limiter, String player) {
    Response response = limiter.isAllowed(ROUTE, player).block(Duration.ofSeconds(10));
    return response != null && response.isAllowed();
  }

  @Test
  void a_busy_player_is_served_from_leases_with_a_tenth_of_the_calls() {
    Counting redis = new Counting(factory);
    AtomicLong clock = new AtomicLong();
    LeasedRateLimiter limiter = limiter(redis, 1_000, 2_000, clock);
    String player = "player:" + UUID.randomUUID();
    for (int i = 0; i < 200; i++) {
      assertThat(allowed(limiter, player)).isTrue();
      clock.addAndGet(1_000_000); // 1 ms apart
    }
    // 1 + 2 + 4 + 8 + 16, then 16 a call: 16 calls for 200 requests (one each before).
    assertThat(redis.calls.get()).isEqualTo(16);
    Response last = limiter.isAllowed(ROUTE, player).block();
    assertThat(last.getHeaders()).containsKey("X-RateLimit-Remaining");
  }

  @Test
  void a_player_has_one_bucket_whatever_the_route() {
    AtomicLong clock = new AtomicLong();
    LeasedRateLimiter limiter = limiter(new Counting(factory), 1, 4, clock);
    String player = "player:" + UUID.randomUUID();
    int allowed = 0;
    for (String route : List.of("game", "members", "match", "jwks", "game", "members")) {
      Response r = limiter.isAllowed(route, player).block(Duration.ofSeconds(10));
      allowed += r.isAllowed() ? 1 : 0;
    }
    // The burst of four, once: not four a route.
    assertThat(allowed).isEqualTo(4);
  }

  @Test
  void nothing_is_taken_or_asked_until_the_answer_is_subscribed_to() {
    Counting redis = new Counting(factory);
    LeasedRateLimiter limiter = limiter(redis, 1_000, 2_000, new AtomicLong());
    Mono<Response> answer = limiter.isAllowed(ROUTE, "player:" + UUID.randomUUID());
    assertThat(redis.calls.get()).isZero();
    assertThat(answer.block(Duration.ofSeconds(10)).isAllowed()).isTrue();
    assertThat(redis.calls.get()).isEqualTo(1);
  }

  @Test
  void a_player_who_sends_now_and_then_takes_one_token_a_request_as_before() {
    Counting redis = new Counting(factory);
    AtomicLong clock = new AtomicLong();
    LeasedRateLimiter limiter = limiter(redis, 1_000, 2_000, clock);
    String player = "player:" + UUID.randomUUID();
    for (int i = 0; i < 5; i++) {
      assertThat(allowed(limiter, player)).isTrue();
      clock.addAndGet(2_000_000_000L); // each lease expired before the next request
    }
    assertThat(redis.calls.get()).isEqualTo(5);
    double tokens = bucketTokens(redis, player);
    // Five tokens taken from the full bucket, one a request (Redis refills by its own clock, a
    // little between the calls): no lease beyond each request's own token.
    assertThat(tokens).isGreaterThanOrEqualTo(2_000.0 - 5);
  }

  @Test
  void parallel_requests_of_a_player_are_all_served_and_take_one_lease_between_them() {
    Counting redis = new Counting(factory);
    AtomicLong clock = new AtomicLong();
    // 100 a second, burst 400: leases of up to 16.
    LeasedRateLimiter limiter = limiter(redis, 100, 400, clock);
    String player = "player:" + UUID.randomUUID();
    for (int i = 0; i < 15; i++) { // leases of 1, 2, 4 and 8, spent: the next miss asks for 16
      assertThat(allowed(limiter, player)).isTrue();
    }
    // 100 at once, 385 tokens left. Had each asked for a whole lease, 24 of them would have
    // taken the bucket's 384 into this replica (the others then refused, or served from them).
    List<Response> answers =
        Flux.range(0, 100)
            .flatMap(i -> limiter.isAllowed(ROUTE, player), 100)
            .collectList()
            .block(Duration.ofSeconds(10));
    assertThat(answers).hasSize(100).allMatch(Response::isAllowed);
    double tokens = bucketTokens(redis, player);
    // At most one lease of 16 beyond the 100 served (Redis refills meanwhile: only more).
    assertThat(tokens).isGreaterThanOrEqualTo(385 - 100 - 16);
  }

  @Test
  void what_an_expired_lease_left_unused_goes_back_to_the_bucket() {
    Counting redis = new Counting(factory);
    AtomicLong clock = new AtomicLong();
    // 32 a second (leases of up to 16), a large burst: the bucket refills little meanwhile.
    LeasedRateLimiter limiter = limiter(redis, 32, 1_000, clock);
    String player = "player:" + UUID.randomUUID();
    for (int i = 0; i < 16; i++) { // leases of 1, 2, 4, 8 and 16: 31 tokens, 15 unused
      assertThat(allowed(limiter, player)).isTrue();
    }
    clock.addAndGet(2_000_000_000L); // the lease of 16 expired
    long started = System.nanoTime();
    assertThat(allowed(limiter, player)).isTrue(); // asks for 8, gives back 15
    double seconds = (System.nanoTime() - started) / 1e9 + 0.5;
    double tokens = bucketTokens(redis, player);
    // 1,000 - 31 + 15 - 8 = 976, plus what Redis refilled while the test ran (without the
    // return: 961).
    assertThat(tokens).isBetween(976.0, 976.0 + 32 * seconds + 32);
  }

  @Test
  void two_replicas_together_admit_no_more_than_the_shared_bucket_gives() {
    AtomicLong clock = new AtomicLong();
    Counting redis = new Counting(factory);
    // 10 a second, burst 40: leases of up to 5 (half a lease time's refill).
    LeasedRateLimiter a = limiter(redis, 10, 40, clock);
    LeasedRateLimiter b = limiter(redis, 10, 40, clock);
    String player = "player:" + UUID.randomUUID();
    long started = System.nanoTime();
    int admitted = 0;
    for (int i = 0; i < 200; i++) {
      if (allowed(i % 2 == 0 ? a : b, player)) {
        admitted++;
      }
      clock.addAndGet(100_000); // 0.1 ms apart by the leases' clock: all within a lease time
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    // The bucket (refilled by Redis's clock while the test ran) bounds what both admit; what a
    // lease kept unused when the bucket ran dry is at most one lease per replica.
    assertThat(admitted).isLessThanOrEqualTo(40 + (int) Math.ceil(10 * seconds));
    assertThat(admitted).isGreaterThanOrEqualTo(40 - 2 * 5);
    assertThat(redis.calls.get()).as("refused requests ask the bucket").isGreaterThan(100);
  }

  @Test
  void a_request_is_let_through_when_redis_is_unreachable() {
    LettuceConnectionFactory nowhere =
        new LettuceConnectionFactory(
            new RedisStandaloneConfiguration("127.0.0.1", FreePorts.next()),
            LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(1)).build());
    nowhere.afterPropertiesSet();
    nowhere.start();
    try {
      LeasedRateLimiter limiter =
          limiter(new ReactiveStringRedisTemplate(nowhere), 1, 1, new AtomicLong());
      for (int i = 0; i < 3; i++) {
        assertThat(allowed(limiter, "player:" + UUID.randomUUID())).isTrue();
      }
    } finally {
      nowhere.destroy();
    }
  }

  /**
   * Redis unreachable: every request waited a second for it and then went through, a flood with it.
   * Now Redis rests a second after it failed, and this replica's own bucket limits meanwhile.
   */
  @Test
  void while_redis_is_unreachable_each_replica_limits_on_its_own_without_waiting_for_it() {
    LettuceConnectionFactory nowhere =
        new LettuceConnectionFactory(
            new RedisStandaloneConfiguration("127.0.0.1", FreePorts.next()),
            LettuceClientConfiguration.builder().commandTimeout(Duration.ofSeconds(1)).build());
    nowhere.afterPropertiesSet();
    nowhere.start();
    try {
      // Its failures come back a moment later, as a timeout would: requests meanwhile overlap.
      Counting redis =
          new Counting(nowhere) {
            @Override
            public <T> Flux<T> execute(RedisScript<T> script, List<String> keys, List<?> args) {
              return super.execute(script, keys, args).delaySubscription(Duration.ofMillis(100));
            }
          };
      AtomicLong clock = new AtomicLong();
      LeasedRateLimiter limiter = limiter(redis, 1, 5, clock);
      String player = "player:" + UUID.randomUUID();
      int admitted = 0;
      for (int i = 0; i < 20; i++) {
        admitted += allowed(limiter, player) ? 1 : 0;
      }
      assertThat(admitted).as("the burst, from this replica's bucket").isEqualTo(5);
      assertThat(redis.calls.get()).as("asked once, then left to rest").isEqualTo(1);

      clock.addAndGet(Duration.ofSeconds(2).toNanos()); // rested: asked again, still away
      assertThat(allowed(limiter, player)).as("two seconds refilled two tokens").isTrue();
      assertThat(redis.calls.get()).isEqualTo(2);

      // Rested again, many at once: one asks Redis, the others are decided here meanwhile.
      clock.addAndGet(Duration.ofSeconds(2).toNanos());
      reactor.core.publisher.Flux.range(0, 20)
          .flatMap(i -> limiter.isAllowed(ROUTE, "player:" + UUID.randomUUID()), 20)
          .blockLast(Duration.ofSeconds(30));
      assertThat(redis.calls.get()).as("one probe for the twenty").isEqualTo(3);
    } finally {
      nowhere.destroy();
    }
  }

  /**
   * A late answer to a request sent before Redis failed says nothing about Redis now: it ended the
   * outage, and every request asked Redis (and waited its timeout) again.
   */
  @Test
  void a_late_answer_to_a_request_sent_before_redis_failed_does_not_end_the_outage()
      throws Exception {
    java.util.concurrent.atomic.AtomicBoolean down =
        new java.util.concurrent.atomic.AtomicBoolean();
    Counting redis =
        new Counting(factory) {
          @Override
          public <T> Flux<T> execute(RedisScript<T> script, List<String> keys, List<?> args) {
            if (down.get()) {
              calls.incrementAndGet();
              return Flux.error(
                  new org.springframework.data.redis.RedisConnectionFailureException("down"));
            }
            return super.execute(script, keys, args).delayElements(Duration.ofMillis(300));
          }
        };
    AtomicLong clock = new AtomicLong();
    LeasedRateLimiter limiter = limiter(redis, 100, 200, clock);
    var late = limiter.isAllowed(ROUTE, "player:" + UUID.randomUUID()).toFuture(); // sent, waits

    clock.addAndGet(Duration.ofMillis(1).toNanos());
    down.set(true);
    assertThat(allowed(limiter, "player:" + UUID.randomUUID())).isTrue(); // fails: local buckets
    assertThat(late.get(10, java.util.concurrent.TimeUnit.SECONDS).isAllowed()).isTrue();

    int asked = redis.calls.get();
    clock.addAndGet(Duration.ofMillis(1).toNanos());
    assertThat(allowed(limiter, "player:" + UUID.randomUUID())).isTrue();
    assertThat(redis.calls.get()).as("still resting: not asked").isEqualTo(asked);
  }
}
