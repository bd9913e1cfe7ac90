package dev.citadel.member.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Mono;

/**
 * Against real Redis: which outcomes of a log-in count towards its locks. A wrong password counts;
 * an attempt refused before its password was checked (bcrypt busy, the store failing) does not, so
 * a player told to try again in a second can.
 */
@CitadelInfra
class LoginThrottleTest {
  static final Duration WAIT = Duration.ofSeconds(10);

  /** An address no other test uses (the throttle's address count is shared in Redis). */
  static final String ADDRESS = "203.0.113.201";

  static LettuceConnectionFactory factory;
  static LoginThrottle throttle;

  /** Thrown by the checks below: the password was wrong (a verdict) or never checked. */
  static final class Wrong extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  static final class Busy extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  @BeforeAll
  static void redis() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    factory.start();
    throttle =
        new LoginThrottle(
            new ReactiveStringRedisTemplate(factory),
            new LoginThrottle.Policy(5, 50, 100, Duration.ofMinutes(1), Duration.ofMinutes(15)));
  }

  @AfterAll
  static void close() {
    factory.destroy();
  }

  static Mono<String> guard(String nickname, Mono<String> check) {
    return throttle.guard(nickname, ADDRESS, Clock.systemUTC(), check, e -> e instanceof Wrong);
  }

  static String nick() {
    return "t" + UUID.randomUUID();
  }

  @Test
  void attempts_refused_before_their_password_was_checked_lock_no_one_out() {
    String nickname = nick();
    for (int i = 0; i < 20; i++) {
      assertThatThrownBy(() -> guard(nickname, Mono.error(new Busy())).block(WAIT))
          .isInstanceOf(Busy.class);
    }

    assertThat(guard(nickname, Mono.just("in")).block(WAIT)).isEqualTo("in");
  }

  @Test
  void log_ins_whose_callers_gave_up_before_the_verdict_lock_no_one_out() {
    String nickname = nick();
    for (int i = 0; i < 8; i++) {
      java.util.concurrent.CountDownLatch checking = new java.util.concurrent.CountDownLatch(1);
      var pending = guard(nickname, Mono.<String>never().doOnSubscribe(s -> checking.countDown()));
      var subscription = pending.subscribe(v -> {}, e -> {});
      org.awaitility.Awaitility.await().atMost(WAIT).until(() -> checking.getCount() == 0);
      subscription.dispose(); // the gateway's timeout, a client that gave up
    }
    // Each was taken back (asynchronously): the player gets in, not locked.
    org.awaitility.Awaitility.await()
        .atMost(WAIT)
        .ignoreException(LoginThrottle.Locked.class)
        .until(() -> "in".equals(guard(nickname, Mono.just("in")).block(WAIT)));
  }

  @Test
  void wrong_passwords_still_lock_the_nickname_at_its_threshold() {
    String nickname = nick();
    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> guard(nickname, Mono.error(new Wrong())).block(WAIT))
          .isInstanceOf(Wrong.class);
    }

    assertThatThrownBy(() -> guard(nickname, Mono.just("in")).block(WAIT))
        .isInstanceOf(LoginThrottle.Locked.class);
  }

  @Test
  void a_refused_attempt_at_the_threshold_sets_no_new_lock() {
    // Locks of a second, on a clock this test moves.
    LoginThrottle quick =
        new LoginThrottle(
            new ReactiveStringRedisTemplate(factory),
            new LoginThrottle.Policy(5, 50, 100, Duration.ofSeconds(1), Duration.ofMinutes(15)));
    Clock[] clock = {Clock.fixed(Instant.parse("2026-12-05T02:00:00Z"), ZoneOffset.UTC)};
    String nickname = nick();
    java.util.function.Function<Mono<String>, Mono<String>> guard =
        check -> quick.guard(nickname, ADDRESS, clock[0], check, e -> e instanceof Wrong);
    for (int i = 0; i < 5; i++) {
      assertThatThrownBy(() -> guard.apply(Mono.error(new Wrong())).block(WAIT))
          .isInstanceOf(Wrong.class);
    }
    clock[0] = Clock.offset(clock[0], Duration.ofSeconds(2)); // the fifth failure's lock is over

    // At the threshold, this attempt locks the pair again while it runs; refused, it must not.
    assertThatThrownBy(() -> guard.apply(Mono.error(new Busy())).block(WAIT))
        .isInstanceOf(Busy.class);

    assertThat(guard.apply(Mono.just("in")).block(WAIT)).isEqualTo("in");
  }

  @Test
  void the_right_password_at_a_wider_threshold_locks_no_one_else_out() {
    LoginThrottle quick =
        new LoginThrottle(
            new ReactiveStringRedisTemplate(factory),
            new LoginThrottle.Policy(10, 2, 100, Duration.ofSeconds(1), Duration.ofMinutes(15)));
    Clock[] clock = {Clock.fixed(Instant.parse("2026-12-05T03:00:00Z"), ZoneOffset.UTC)};
    String nickname = nick();
    java.util.function.BiFunction<String, Mono<String>, Mono<String>> from =
        (address, check) ->
            quick.guard(nickname, address, clock[0], check, e -> e instanceof Wrong);
    for (int i = 0; i < 2; i++) {
      assertThatThrownBy(() -> from.apply("203.0.113.202", Mono.error(new Wrong())).block(WAIT))
          .isInstanceOf(Wrong.class);
    }
    clock[0] = Clock.offset(clock[0], Duration.ofSeconds(2)); // the nickname's lock is over

    // The owner logs in from home while the nickname-wide count is at its threshold.
    assertThat(from.apply("203.0.113.203", Mono.just("in")).block(WAIT)).isEqualTo("in");

    assertThat(from.apply("203.0.113.204", Mono.just("in")).block(WAIT))
        .as("not locked by the owner's own success")
        .isEqualTo("in");
  }

  @Test
  void a_refused_attempt_takes_back_only_its_own_count() {
    String nickname = nick();
    for (int i = 0; i < 4; i++) {
      assertThatThrownBy(() -> guard(nickname, Mono.error(new Wrong())).block(WAIT))
          .isInstanceOf(Wrong.class);
    }
    assertThatThrownBy(() -> guard(nickname, Mono.error(new Busy())).block(WAIT))
        .isInstanceOf(Busy.class);

    // Four wrong passwords stay counted: the fifth locks.
    assertThatThrownBy(() -> guard(nickname, Mono.error(new Wrong())).block(WAIT))
        .isInstanceOf(Wrong.class);
    assertThatThrownBy(() -> guard(nickname, Mono.just("in")).block(WAIT))
        .isInstanceOf(LoginThrottle.Locked.class);
  }

  /** Runs the attempt script for real, then answers as a Redis too slow to reply in time would. */
  static final class RepliesLost extends ReactiveStringRedisTemplate {
    final java.util.concurrent.atomic.AtomicInteger toLose =
        new java.util.concurrent.atomic.AtomicInteger();

    RepliesLost(LettuceConnectionFactory factory) {
      super(factory);
    }

    @Override
    public <T> reactor.core.publisher.Flux<T> execute(
        org.springframework.data.redis.core.script.RedisScript<T> script,
        java.util.List<String> keys,
        java.util.List<?> args) {
      reactor.core.publisher.Flux<T> real = super.execute(script, keys, args);
      if (args.size() == 10 && toLose.getAndDecrement() > 0) { // login-attempt.lua
        return real.thenMany(
            reactor.core.publisher.Flux.error(
                new org.springframework.dao.QueryTimeoutException("Redis did not answer in time")));
      }
      return real;
    }
  }

  /**
   * An attempt counted in Redis whose reply never came (Redis stalled past the client's timeout,
   * the caller answered 503): it was counted all the same, and a player whose log-ins met a stalled
   * Redis five times was locked out without one wrong password. Now it is taken back.
   */
  @Test
  void attempts_whose_reply_was_lost_lock_no_one_out() {
    RepliesLost redis = new RepliesLost(factory);
    redis.toLose.set(8);
    LoginThrottle lossy =
        new LoginThrottle(
            redis,
            new LoginThrottle.Policy(5, 50, 100, Duration.ofMinutes(1), Duration.ofMinutes(15)));
    String nickname = nick();
    String address = "203.0.113.211";
    for (int i = 0; i < 8; i++) {
      assertThatThrownBy(
              () ->
                  lossy
                      .guard(
                          nickname,
                          address,
                          Clock.systemUTC(),
                          Mono.just("in"),
                          e -> e instanceof Wrong)
                      .block(WAIT))
          .isInstanceOf(org.springframework.dao.QueryTimeoutException.class);
    }
    assertThat(
            lossy
                .guard(
                    nickname, address, Clock.systemUTC(), Mono.just("in"), e -> e instanceof Wrong)
                .block(WAIT))
        .isEqualTo("in");
  }

  /**
   * A log-in cancelled while its password was checked is taken back once: taken back twice (by the
   * guard and by the lost-reply path), each cancel erased one earlier wrong guess, and guessing
   * with a cancel in between never locked.
   */
  @Test
  void a_cancelled_log_in_is_taken_back_once_and_earlier_guesses_stay_counted() {
    String nickname = nick();
    for (int i = 0; i < 4; i++) {
      assertThatThrownBy(() -> guard(nickname, Mono.error(new Wrong())).block(WAIT))
          .isInstanceOf(Wrong.class);
    }
    java.util.concurrent.CountDownLatch checking = new java.util.concurrent.CountDownLatch(1);
    var subscription =
        guard(nickname, Mono.<String>never().doOnSubscribe(x -> checking.countDown()))
            .subscribe(v -> {}, e -> {});
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> checking.getCount() == 0);
    subscription.dispose();
    String pair =
        "{login}:pair:" + nickname + "|" + dev.citadel.web.security.ClientAddress.bucket(ADDRESS);
    ReactiveStringRedisTemplate redis = new ReactiveStringRedisTemplate(factory);
    org.awaitility.Awaitility.await()
        .atMost(WAIT)
        .until(
            () -> "4".equals(redis.<String, String>opsForHash().get(pair, "failures").block(WAIT)));

    // The fifth wrong guess locks, as five wrong guesses do.
    assertThatThrownBy(() -> guard(nickname, Mono.error(new Wrong())).block(WAIT))
        .isInstanceOf(Wrong.class);
    assertThatThrownBy(() -> guard(nickname, Mono.just("in")).block(WAIT))
        .isInstanceOf(LoginThrottle.Locked.class);
  }

  /**
   * Lettuce sends a script again when its connection dropped before the reply: the attempt ran
   * twice, was counted twice and taken back once, and each such reconnect left a failure that never
   * happened. Now the second run answers as the first.
   */
  @Test
  void an_attempt_sent_again_after_a_reconnect_is_counted_once() {
    ReactiveStringRedisTemplate replayed =
        new ReactiveStringRedisTemplate(factory) {
          @Override
          public <T> reactor.core.publisher.Flux<T> execute(
              org.springframework.data.redis.core.script.RedisScript<T> script,
              java.util.List<String> keys,
              java.util.List<?> args) {
            if (args.size() == 10) { // login-attempt.lua: run, then run again
              return super.execute(script, keys, args).thenMany(super.execute(script, keys, args));
            }
            return super.execute(script, keys, args);
          }
        };
    LoginThrottle twice =
        new LoginThrottle(
            replayed,
            new LoginThrottle.Policy(5, 50, 100, Duration.ofMinutes(1), Duration.ofMinutes(15)));
    String nickname = nick();
    String address = "203.0.113.212";
    assertThat(
            twice
                .guard(
                    nickname, address, Clock.systemUTC(), Mono.just("in"), e -> e instanceof Wrong)
                .block(WAIT))
        .isEqualTo("in");
    ReactiveStringRedisTemplate redis = new ReactiveStringRedisTemplate(factory);
    assertThat(
            redis
                .<String, String>opsForHash()
                .get("{login}:nickname:" + nickname, "failures")
                .block(WAIT))
        .isEqualTo("0");
    assertThat(
            redis
                .<String, String>opsForHash()
                .get(
                    "{login}:address:" + dev.citadel.web.security.ClientAddress.bucket(address),
                    "failures")
                .block(WAIT))
        .isEqualTo("0");
  }
}
