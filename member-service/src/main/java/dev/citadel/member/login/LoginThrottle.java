package dev.citadel.member.login;

import dev.citadel.web.security.ClientAddress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Mono;

/**
 * Slows password guessing down, in Redis (shared by every replica), on three keys at once: a
 * nickname from one address (strict: a few failures), a nickname from anywhere (loose: many
 * addresses guessing one account), an address whatever the nickname (loose: one address spraying
 * many accounts). Past its threshold, every failure locks a key for twice as long as the last.
 *
 * <p>An attempt is counted before its password is checked (one script call), so a burst of
 * concurrent guesses is counted in full; a success takes its own count back (and only its own: the
 * owner logging in must not hand an attacker guessing the same account a fresh budget). A locked
 * attempt is refused before any bcrypt work. The strict key includes the address, so a stranger's
 * guesses lock the stranger out, not the player; and the nickname-wide key does not apply to an
 * address the account logged in from before, so strangers guessing from everywhere cannot lock the
 * owner out at home. IPv6 addresses count by their /64 ({@link ClientAddress#bucket}).
 */
public final class LoginThrottle {
  private static final Logger log = LoggerFactory.getLogger(LoginThrottle.class);

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final RedisScript<List<String>> ATTEMPT =
      (RedisScript) script("scripts/login-attempt.lua", List.class);

  private static final RedisScript<Long> SUCCEEDED = takingBack("scripts/login-succeeded.lua");
  private static final RedisScript<Long> WITHDRAWN = takingBack("scripts/login-withdrawn.lua");
  private static final RedisScript<Long> FORGET = takingBack("scripts/login-forget.lua");

  /** How long an attempt's reply is kept for a caller that did not get it ({@link #forget}). */
  static final Duration ATTEMPT_KEPT = Duration.ofMinutes(1);

  /** How long a count of failures is remembered without new ones. */
  static final Duration REMEMBER = Duration.ofHours(1);

  /** How long an address the account logged in from stays known, and how many are kept. */
  static final Duration KNOWN_FOR = Duration.ofDays(30);

  static final int KNOWN_KEPT = 20;

  /** Log-in is locked: try again after {@code retryAfter}. */
  public static final class Locked extends RuntimeException {
    private static final long serialVersionUID = 1L;

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
   * @param perNicknameAndAddress failures of one nickname from one address before it is locked
   * @param perNickname failures of one nickname from anywhere before it is locked
   * @param perAddress failures from one address, whatever the nickname, before it is locked
   */
  public record Policy(
      int perNicknameAndAddress,
      int perNickname,
      int perAddress,
      Duration backoff,
      Duration maxBackoff) {}

  private final ReactiveStringRedisTemplate redis;
  private final Policy policy;

  public LoginThrottle(ReactiveStringRedisTemplate redis, Policy policy) {
    this.redis = redis;
    this.policy = policy;
  }

  /**
   * What an attempt counted, handed back to {@link #succeeded} so that a success takes back exactly
   * that (the address may stop or start being known in between).
   */
  public record Counted(
      String nicknameKey, String bucket, boolean nicknameWide, List<String> locks, String record) {}

  /**
   * Counts an attempt; completes with what it counted if it may go on, fails with {@link Locked} if
   * a key is locked (then nothing was counted).
   */
  public Mono<Counted> attempt(String nicknameKey, String address, Instant now) {
    // Per subscription: each its own record and its own "replied".
    return Mono.defer(() -> attemptOnce(nicknameKey, address, now));
  }

  private Mono<Counted> attemptOnce(String nicknameKey, String address, Instant now) {
    String bucket = ClientAddress.bucket(address);
    String record = "{login}:attempt:" + java.util.UUID.randomUUID();
    java.util.concurrent.atomic.AtomicBoolean replied =
        new java.util.concurrent.atomic.AtomicBoolean();
    List<String> keys = new ArrayList<>(keys(nicknameKey, bucket));
    keys.add(record);
    return redis
        .execute(
            ATTEMPT,
            keys,
            List.of(
                Long.toString(now.toEpochMilli()),
                Integer.toString(policy.perNicknameAndAddress()),
                Integer.toString(policy.perNickname()),
                Integer.toString(policy.perAddress()),
                Long.toString(policy.backoff().toMillis()),
                Long.toString(policy.maxBackoff().toMillis()),
                Long.toString(REMEMBER.toMillis()),
                bucket,
                Long.toString(KNOWN_FOR.toMillis()),
                Long.toString(ATTEMPT_KEPT.toMillis())))
        .next()
        // No reply: counted or not, the record says; taken back if it was (a stalled Redis or a
        // caller gone must not count as a guess).
        .onErrorResume(
            e ->
                forget(keys, record)
                    .onErrorResume(
                        x -> {
                          log.warn("a log-in attempt without a reply may stay counted", x);
                          return Mono.empty();
                        })
                    .then(Mono.error(e)))
        // Only while the reply has not come: once it has, the caller owns the attempt (guard
        // takes it back or keeps it), and a later cancel reaching here must not take it back a
        // second time (that would erase another, earlier failure).
        .doOnNext(reply -> replied.set(true))
        .doOnCancel(
            () -> {
              if (!replied.get()) {
                forget(keys, record)
                    .subscribe(
                        null, x -> log.warn("a cancelled log-in attempt may stay counted", x));
              }
            })
        .flatMap(
            reply -> {
              long code = Long.parseLong(reply.get(0));
              return code > 0
                  ? Mono.error(new Locked(Duration.ofMillis(code)))
                  : Mono.just(
                      new Counted(
                          nicknameKey,
                          bucket,
                          code == 0,
                          List.copyOf(reply.subList(1, 7)),
                          record));
            });
  }

  /**
   * The attempt was right: the nickname with this address starts again, the wider counts lose this
   * attempt, and the address becomes one the account is known to log in from.
   */
  public Mono<Void> succeeded(Counted attempt, Instant now) {
    return redis
        .execute(
            SUCCEEDED,
            withRecord(keys(attempt.nicknameKey(), attempt.bucket()), attempt),
            withLocks(
                attempt,
                Integer.toString(policy.perNickname()),
                Integer.toString(policy.perAddress()),
                Long.toString(now.toEpochMilli()),
                attempt.bucket(),
                Long.toString(KNOWN_FOR.toMillis()),
                Integer.toString(KNOWN_KEPT),
                attempt.nicknameWide() ? "1" : "0"))
        .then();
  }

  /**
   * The attempt got no verdict (its password was never checked: the platform was busy, the store
   * failed): taken back from every key it counted, so that a refused attempt tried again later does
   * not count twice, nor lock anyone out. A wrong password is a verdict and stays counted.
   */
  public Mono<Void> withdrawn(Counted attempt) {
    return redis
        .execute(
            WITHDRAWN,
            withRecord(keys(attempt.nicknameKey(), attempt.bucket()).subList(0, 3), attempt),
            withLocks(
                attempt,
                Integer.toString(policy.perNicknameAndAddress()),
                Integer.toString(policy.perNickname()),
                Integer.toString(policy.perAddress()),
                attempt.nicknameWide() ? "1" : "0"))
        .then();
  }

  /**
   * A log-in under the throttle: counted before {@code check} runs (refused with {@link Locked}
   * without running it when locked); a success takes its count back ({@link #succeeded}), an error
   * that is not a {@code verdict} on the password too ({@link #withdrawn}), and so does a log-in
   * whose caller gave up before either (a client or the gateway timing out under load: counted as
   * failures, a few of them locked a player out without one wrong password); a verdict stays
   * counted.
   */
  public <T> Mono<T> guard(
      String nicknameKey,
      String address,
      Clock clock,
      Mono<T> check,
      Predicate<Throwable> verdict) {
    return attempt(nicknameKey, address, clock.instant())
        .flatMap(
            counted -> {
              // Set once the attempt's outcome is being recorded (or stays counted): a cancel
              // after that changes nothing; a cancel before takes the count back.
              java.util.concurrent.atomic.AtomicBoolean settled =
                  new java.util.concurrent.atomic.AtomicBoolean();
              return check
                  .onErrorResume(
                      e -> !verdict.test(e) && settled.compareAndSet(false, true),
                      // Taken back; if that fails too, the first error still answers.
                      e ->
                          withdrawn(counted)
                              .onErrorResume(
                                  x -> {
                                    log.warn("a log-in's count could not be taken back", x);
                                    return Mono.empty();
                                  })
                              .then(Mono.error(e)))
                  .doOnError(e -> settled.set(true)) // a verdict: stays counted
                  .flatMap(
                      ok -> {
                        if (!settled.compareAndSet(false, true)) {
                          return Mono.just(ok); // cancelled just before: taken back already
                        }
                        return succeeded(counted, clock.instant())
                            // The password was right: the player gets in all the same.
                            .onErrorResume(
                                x -> {
                                  log.warn("a log-in's success could not be recorded", x);
                                  return Mono.empty();
                                })
                            .thenReturn(ok);
                      })
                  .doOnCancel(
                      () -> {
                        if (settled.compareAndSet(false, true)) {
                          // Not this request's to wait for: its caller is gone.
                          withdrawn(counted)
                              .subscribe(
                                  null,
                                  x -> log.warn("a cancelled log-in's count stays counted", x));
                        }
                      });
            });
  }

  /** Takes back the attempt kept under {@code record}, if login-attempt.lua counted it. */
  private Mono<Void> forget(List<String> keys, String record) {
    return redis
        .execute(
            FORGET,
            List.of(keys.get(0), keys.get(1), keys.get(2), record),
            List.of(
                Integer.toString(policy.perNicknameAndAddress()),
                Integer.toString(policy.perNickname()),
                Integer.toString(policy.perAddress())))
        .then();
  }

  /**
   * Moves what the throttle keeps per nickname to a renamed account's new nickname: the addresses
   * it is known to log in from (which go with the account, not the name: left behind, strangers
   * could lock the renamed owner out at home, and whoever took the old nickname next was exempt
   * from its nickname-wide limit at the owner's addresses) and its nickname-wide count.
   */
  public Mono<Void> renamed(String oldNicknameKey, String newNicknameKey) {
    if (oldNicknameKey.equals(newNicknameKey)) {
      return Mono.empty();
    }
    return redis
        .execute(
            RENAMED,
            List.of(
                "{login}:known:" + oldNicknameKey,
                "{login}:known:" + newNicknameKey,
                "{login}:nickname:" + oldNicknameKey,
                "{login}:nickname:" + newNicknameKey))
        .then();
  }

  private static final RedisScript<Long> RENAMED =
      RedisScript.of(
          "redis.call('DEL', KEYS[2], KEYS[4])"
              + " if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('RENAME', KEYS[1], KEYS[2])"
              + " end"
              + " if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('RENAME', KEYS[3], KEYS[4])"
              + " end return 1",
          Long.class);

  /** The keys, then the attempt's record: a take-back acts only while the record is there. */
  private static List<String> withRecord(List<String> keys, Counted attempt) {
    List<String> all = new ArrayList<>(keys);
    all.add(attempt.record());
    return all;
  }

  /** A script's arguments, then the locks the attempt reported (see login-attempt.lua). */
  private static List<String> withLocks(Counted attempt, String... values) {
    List<String> args = new ArrayList<>(List.of(values));
    args.addAll(attempt.locks());
    return args;
  }

  /** A script that takes an attempt back: login-take-back.lua's function first. */
  private static RedisScript<Long> takingBack(String path) {
    return RedisScript.of(text("scripts/login-take-back.lua") + "\n" + text(path), Long.class);
  }

  private static List<String> keys(String nicknameKey, String bucket) {
    return List.of(
        "{login}:pair:" + nicknameKey + "|" + bucket,
        "{login}:nickname:" + nicknameKey,
        "{login}:address:" + bucket,
        "{login}:known:" + nicknameKey);
  }

  /**
   * A script read once, as text: from a resource, Spring asks on every call whether it changed
   * (which opens the jar entry: 8 % of the gateway's CPU when its rate limiter did it).
   */
  private static <T> RedisScript<T> script(String path, Class<T> type) {
    return RedisScript.of(text(path), type);
  }

  private static String text(String path) {
    try {
      return new ClassPathResource(path).getContentAsString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("script " + path + " is missing", e);
    }
  }
}
