package dev.citadel.gateway.ratelimit;

import io.lettuce.core.RedisException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.core.io.ClassPathResource;
import org.springframework.dao.DataAccessException;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Mono;

/**
 * Spring Cloud Gateway's Redis token bucket (same configuration, same keys, shared by every
 * replica), asked once per lease instead of once per request: a busy player's tokens are taken a
 * few at a time and spent here ({@link Leases}). Asking Redis on every request cost the gateway
 * 12-25 us of CPU and Redis 14-17 us per request; leased, 2-5 us and 2 us
 * (RateLimiterBenchmarkTest), and Redis is asked as little as once in sixteen requests of a busy
 * player. Nothing is admitted that the bucket did not give; what a lease leaves unused goes back to
 * the bucket with the key's next ask; a player who sends a request now and then asks for one token
 * at a time, as before. While Redis fails, each replica limits with buckets of its own.
 */
public final class LeasedRateLimiter extends RedisRateLimiter {
  private static final Logger log = LoggerFactory.getLogger(LeasedRateLimiter.class);

  /** Where the route filters' shared configuration is kept ({@code default-filters}). */
  private static final String DEFAULT_FILTERS = "defaultFilters";

  private static final String SCRIPT = "scripts/rate-limit-lease.lua";

  private static final Duration REPORT_EVERY = Duration.ofSeconds(10);

  /** Stands for Redis's reply when there was none (compared by identity). */
  private static final List<Long> UNANSWERED = List.of(-1L, -1L);

  private final ReactiveStringRedisTemplate redis;
  private final RedisScript<List<Long>> script;
  private final int maxLease;
  private final long leaseNanos;
  private final Leases leases;
  private final LongSupplier nanoTime;
  private final AtomicLong uncheckedSinceReport = new AtomicLong();

  /**
   * After Redis failed, it is not asked again for this long: every request waited its timeout (a
   * second) for an answer that did not come. Meanwhile each replica limits on its own.
   */
  static final Duration REDIS_RESTS = Duration.ofSeconds(1);

  private final LocalBuckets local = new LocalBuckets();

  /** Redis's last failure (its {@code nanoTime}), or null once asked after it with success. */
  private record Failure(long at) {}

  /**
   * Set while Redis is down: then only one request at a time asks it. One reference, cleared only
   * by a compare-and-set of the failure it saw: a success can never clear a failure that came after
   * it looked (with two fields, a success could read the old failure's time, a new failure land,
   * and the success then mark Redis up).
   */
  private final AtomicReference<Failure> redisDown = new AtomicReference<>();

  /** While Redis is down: when one request may ask it again (the others are decided here). */
  private final AtomicLong redisAskedAgainAt = new AtomicLong();

  private final AtomicLong nextReport;

  /**
   * @param maxLease the most tokens taken from a bucket at once (also at most a quarter of its
   *     burst and half of what it refills in a lease time: see {@link #maxLease})
   * @param leaseTime how long taken tokens may be spent here
   */
  public LeasedRateLimiter(
      ReactiveStringRedisTemplate redis,
      RedisScript<List<Long>> script,
      ConfigurationService configurationService,
      int maxLease,
      Duration leaseTime,
      LongSupplier nanoTime) {
    super(redis, script, configurationService);
    this.redis = redis;
    this.script = script;
    this.maxLease = maxLease;
    this.leaseNanos = leaseTime.toNanos();
    this.nanoTime = nanoTime;
    this.leases = new Leases(leaseNanos, nanoTime.getAsLong());
    this.nextReport = new AtomicLong(nanoTime.getAsLong());
  }

  @Override
  public Mono<Response> isAllowed(String routeId, String id) {
    Config config = getConfig().getOrDefault(routeId, getConfig().get(DEFAULT_FILTERS));
    if (config == null) {
      return super.isAllowed(routeId, id); // refused as Spring Cloud Gateway refuses it
    }
    // Deferred: what a subscription takes or gives back is decided when it subscribes, once each
    // (a Mono subscribed again must not give the same unused tokens back twice).
    // One bucket a player (or address) across every route, as Spring Cloud Gateway keys it: per
    // route, a player spread over five routes had five times the rate.
    return Mono.defer(() -> check(config, id));
  }

  private Mono<Response> check(Config config, String key) {
    int tokens = config.getRequestedTokens();
    long now = nanoTime.getAsLong();
    if (leases.take(key, tokens, now)) {
      return Mono.just(new Response(true, headers(config, leases.remaining(key, now))));
    }
    if (redisDown.get() != null && !probe(now)) {
      return Mono.just(locally(config, key, tokens, now));
    }
    Leases.Ask ask = leases.ask(key, tokens, maxLease(config), now);
    String bucket = bucket(key);
    List<String> keys = List.of(bucket + "tokens", bucket + "timestamp");
    List<String> args =
        List.of(
            Integer.toString(config.getReplenishRate()),
            Long.toString(config.getBurstCapacity()),
            Integer.toString(ask.wanted()),
            Integer.toString(tokens),
            Integer.toString(ask.returned()));
    Mono<Response> answer =
        redis
            .execute(script, keys, args)
            .single()
            // Only Redis failing (as Spring Data, Lettuce or the socket report it; a script error
            // comes as Spring Data's) lets a request through: a fault in our reply handling is
            // not hidden as one.
            .onErrorResume(LeasedRateLimiter::redisFailed, e -> Mono.just(unanswered(e)))
            .map(
                reply -> {
                  if (reply == UNANSWERED) {
                    // The script may have run and its tokens are lost with the reply: the next
                    // ask is for one, not a whole lease.
                    leases.failed(key, ask);
                    long at = nanoTime.getAsLong();
                    redisAskedAgainAt.set(at + REDIS_RESTS.toNanos());
                    redisDown.set(new Failure(at));
                    return locally(config, key, tokens, at);
                  }
                  Failure last = redisDown.get();
                  if (last != null && now - last.at() > 0) {
                    // Asked after the last failure: Redis is back. (A late answer to a request
                    // sent before it says nothing about now.)
                    redisDown.compareAndSet(last, null);
                  }
                  return answer(config, key, tokens, ask, reply);
                });
    if (!ask.lease()) {
      return answer;
    }
    // A lease ask ends with its answer; cancelled or failed (its reply, if any, lost), here.
    return answer.doOnCancel(() -> leases.failed(key, ask)).doOnError(e -> leases.failed(key, ask));
  }

  /**
   * Redis's own failure (refused, timed out, disconnected), as Spring Data or Lettuce report it, or
   * the socket's error as Lettuce passes it on untranslated (a connection reset mid-command).
   */
  static boolean redisFailed(Throwable e) {
    return e instanceof DataAccessException
        || e instanceof RedisException
        || e instanceof IOException
        || e instanceof TimeoutException;
  }

  private Response answer(Config config, String key, int tokens, Leases.Ask ask, List<Long> reply) {
    int given = reply.get(0).intValue();
    long bucketLeft = reply.get(1);
    long now = nanoTime.getAsLong();
    if (given < tokens) {
      leases.asked(key, ask);
      // Refused by the bucket; a lease asked for meanwhile (by another request of this key) may
      // have come back with tokens to spare.
      boolean spare = leases.take(key, tokens, now);
      return new Response(spare, headers(config, spare ? leases.remaining(key, now) : bucketLeft));
    }
    if (ask.lease()) {
      leases.granted(key, ask, given, tokens, bucketLeft, now);
      return new Response(true, headers(config, leases.remaining(key, now)));
    }
    return new Response(true, headers(config, bucketLeft));
  }

  /**
   * Whether this request is the one that asks Redis again, once it has rested: the others are
   * decided here meanwhile, instead of each waiting out Redis's timeout too.
   */
  private boolean probe(long now) {
    long again = redisAskedAgainAt.get();
    return now - again >= 0 && redisAskedAgainAt.compareAndSet(again, now + REDIS_RESTS.toNanos());
  }

  /** Decided by this replica's own bucket for the key, while Redis cannot be asked. */
  private Response locally(Config config, String key, int tokens, long now) {
    boolean allowed =
        local.take(key, tokens, config.getReplenishRate(), config.getBurstCapacity(), now);
    return new Response(allowed, headers(config, -1L));
  }

  /**
   * Redis did not answer: the request is decided by this replica's own bucket, and Redis rests for
   * {@link #REDIS_RESTS} (a limiter that refused everything while Redis is down would take the
   * whole game with it; one that let everything through let a flood through). Said at most once per
   * {@link #REPORT_EVERY}, with how many were decided here.
   */
  private List<Long> unanswered(Throwable e) {
    long unchecked = uncheckedSinceReport.incrementAndGet();
    long now = nanoTime.getAsLong();
    long next = nextReport.get();
    if (now - next >= 0 && nextReport.compareAndSet(next, now + REPORT_EVERY.toNanos())) {
      uncheckedSinceReport.addAndGet(-unchecked);
      log.error(
          "rate limiter's Redis unavailable: {} request(s) limited by this replica alone",
          unchecked,
          e);
    }
    return UNANSWERED;
  }

  /**
   * A lease small next to the bucket: at most a quarter of its burst and half of what it refills in
   * one lease time, so an expired lease costs a player little (a low limit leases nothing: one
   * token at a time, as Spring Cloud Gateway's own).
   */
  int maxLease(Config config) {
    long refilled = config.getReplenishRate() * leaseNanos / 2_000_000_000L;
    long cap = Math.min(maxLease, Math.min(config.getBurstCapacity() / 4, refilled));
    return (int) Math.max(1, cap);
  }

  /** The bucket script (Spring Cloud Gateway's, giving up to the tokens asked for), read once. */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static RedisScript<List<Long>> script() {
    try (InputStream in = new ClassPathResource(SCRIPT).getInputStream()) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return (RedisScript<List<Long>>) (RedisScript) new DefaultRedisScript<>(text, List.class);
    } catch (IOException e) {
      throw new UncheckedIOException("the rate limiter's script " + SCRIPT + " is missing", e);
    }
  }

  /** The stock limiter's keys: the same bucket whichever limiter a replica runs. */
  static String bucket(String key) {
    return "request_rate_limiter.{" + key + "}.";
  }

  private Map<String, String> headers(Config config, long left) {
    return isIncludeHeaders() ? getHeaders(config, left) : Map.of();
  }
}
