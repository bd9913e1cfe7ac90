package dev.citadel.member.login;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Mono;

/**
 * Slows password guessing down per nickname AND per address, in Redis (shared by every replica):
 * failures are counted, and past a threshold each failure locks the key for a doubling time. A
 * locked log-in is refused before any password is checked (no bcrypt work spent on it). Rotating
 * addresses does not help against one nickname; spraying nicknames from one address does not help
 * either.
 */
public final class LoginThrottle {
  private static final RedisScript<Long> CHECK =
      RedisScript.of(new ClassPathResource("scripts/login-check.lua"), Long.class);
  private static final RedisScript<Long> FAILED =
      RedisScript.of(new ClassPathResource("scripts/login-failed.lua"), Long.class);

  /** How long a count of failures is remembered without new ones. */
  static final Duration REMEMBER = Duration.ofHours(1);

  /** Log-in is locked: try again after {@code retryAfter}. */
  public static final class Locked extends RuntimeException {
    private final Duration retryAfter;

    public Locked(Duration retryAfter) {
      super("too many failed log-ins; try again later", null, false, false);
      this.retryAfter = retryAfter;
    }

    public Duration retryAfter() {
      return retryAfter;
    }
  }

  /**
   * @param perNickname failures of one nickname before it is locked
   * @param perAddress failures from one address before it is locked
   */
  public record Policy(int perNickname, int perAddress, Duration backoff, Duration maxBackoff) {}

  private final ReactiveStringRedisTemplate redis;
  private final Policy policy;

  public LoginThrottle(ReactiveStringRedisTemplate redis, Policy policy) {
    this.redis = redis;
    this.policy = policy;
  }

  /** Completes if log-in may be tried now; fails with {@link Locked} otherwise. */
  public Mono<Void> check(String nicknameKey, String address, Instant now) {
    return redis
        .execute(CHECK, keys(nicknameKey, address), List.of(Long.toString(now.toEpochMilli())))
        .next()
        .flatMap(ms -> ms > 0 ? Mono.error(new Locked(Duration.ofMillis(ms))) : Mono.empty());
  }

  /** Counts a failure; the answer is how long log-in is locked now (zero: not). */
  public Mono<Duration> failed(String nicknameKey, String address, Instant now) {
    return redis
        .execute(
            FAILED,
            keys(nicknameKey, address),
            List.of(
                Long.toString(now.toEpochMilli()),
                Integer.toString(policy.perNickname()),
                Integer.toString(policy.perAddress()),
                Long.toString(policy.backoff().toMillis()),
                Long.toString(policy.maxBackoff().toMillis()),
                Long.toString(REMEMBER.toMillis())))
        .next()
        .map(Duration::ofMillis);
  }

  /** A success forgets the nickname's failures (not the address's). */
  public Mono<Void> succeeded(String nicknameKey) {
    return redis.delete(nicknameKey(nicknameKey)).then();
  }

  private static List<String> keys(String nicknameKey, String address) {
    return List.of(nicknameKey(nicknameKey), "{login}:address:" + address);
  }

  private static String nicknameKey(String key) {
    return "{login}:nickname:" + key;
  }
}
