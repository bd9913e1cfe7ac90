package dev.citadel.member.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.password.PasswordEncoder;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * bcrypt's queue is bounded: past it a sign-up is refused at once, not queued for seconds; a
 * sign-up for a taken nickname never queues for it; sign-ups have only a share of it.
 */
class AccountsBusyTest extends AccountsDatabase {
  /** Holds its bcrypt thread on the password "hold the thread" until released. */
  static final class Slow implements PasswordEncoder {
    final CountDownLatch started = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public String encode(CharSequence raw) {
      hold(raw);
      return "hash";
    }

    @Override
    public boolean matches(CharSequence raw, String encoded) {
      hold(raw);
      return false;
    }

    private void hold(CharSequence raw) {
      if ("hold the thread".contentEquals(raw)) {
        started.countDown();
        try {
          release.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  static MemberRejected.Kind refusal(Runnable call) {
    Throwable[] caught = new Throwable[1];
    assertThatThrownBy(call::run).isInstanceOfSatisfying(MemberRejected.class, e -> caught[0] = e);
    return ((MemberRejected) caught[0]).kind();
  }

  @Test
  void past_its_queue_a_sign_up_is_refused_at_once_as_busy() {
    Slow slow = new Slow();
    Scheduler hashing = Schedulers.newBoundedElastic(1, 1, "test-bcrypt"); // 1 busy, 1 waiting
    try {
      Accounts accounts = accounts(slow, hashing, Integer.MAX_VALUE);
      accounts
          .signUp(nick(), "hold the thread", "p1-" + nick(), Instant.EPOCH)
          .subscribe(a -> {}, e -> {});
      assertThat(await(slow.started)).isTrue();
      // The waiting place is taken directly: a second sign-up would first look its nickname up
      // in the database, and the sign-up below could reach the queue before it (then it waits).
      hashing.schedule(() -> {});

      assertThat(
              refusal(
                  () ->
                      accounts
                          .signUp(nick(), "hold the thread", "p3-" + nick(), Instant.EPOCH)
                          .block(Duration.ofSeconds(20))))
          .isEqualTo(MemberRejected.Kind.BUSY);
      assertThat(slow.release.getCount())
          .as("refused while the first still hashes: it did not wait its turn")
          .isEqualTo(1);
    } finally {
      slow.release.countDown();
      hashing.dispose();
    }
  }

  /**
   * A flood of sign-ups for taken nicknames hashed a password each before the insert refused it,
   * filling the queue log-ins need: the nickname is now looked up first.
   */
  @Test
  void a_taken_nickname_is_refused_without_waiting_for_bcrypt() throws Exception {
    String taken = nick();
    try (var c = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
        var insert =
            c.prepareStatement(
                "INSERT INTO accounts (player_id, nickname, nickname_key, password_hash,"
                    + " created_at) VALUES (?, ?, ?, 'x', now())")) {
      insert.setString(1, "p-" + UUID.randomUUID());
      insert.setString(2, taken);
      insert.setString(3, taken);
      insert.executeUpdate();
    }
    Slow slow = new Slow();
    Scheduler hashing = Schedulers.newBoundedElastic(1, 1, "test-bcrypt");
    try {
      Accounts accounts = accounts(slow, hashing, Integer.MAX_VALUE);
      accounts
          .signUp(nick(), "hold the thread", "p1-" + nick(), Instant.EPOCH)
          .subscribe(a -> {}, e -> {});
      assertThat(await(slow.started)).isTrue();
      hashing.schedule(() -> {}); // the waiting place: bcrypt's queue is full

      assertThat(
              refusal(
                  () ->
                      accounts
                          .signUp(taken, "any password", "p3-" + nick(), Instant.EPOCH)
                          .block(Duration.ofSeconds(20))))
          .isEqualTo(MemberRejected.Kind.CONFLICT);
    } finally {
      slow.release.countDown();
      hashing.dispose();
    }
  }

  /** Sign-ups may fill their share of bcrypt only: a log-in still gets a place. */
  @Test
  void sign_ups_have_a_share_of_bcrypt_and_log_ins_keep_the_rest() {
    Slow slow = new Slow();
    Scheduler hashing = Schedulers.newBoundedElastic(1, 4, "test-bcrypt");
    try {
      Accounts accounts = accounts(slow, hashing, 1);
      accounts
          .signUp(nick(), "hold the thread", "p1-" + nick(), Instant.EPOCH)
          .subscribe(a -> {}, e -> {});
      assertThat(await(slow.started)).isTrue();

      assertThat(
              refusal(
                  () ->
                      accounts
                          .signUp(nick(), "another password", "p2-" + nick(), Instant.EPOCH)
                          .block(Duration.ofSeconds(20))))
          .as("the sign-ups' share is taken")
          .isEqualTo(MemberRejected.Kind.BUSY);
      var login = accounts.logIn(nick(), "wrong").toFuture();
      slow.release.countDown();
      assertThat(
              refusal(
                  () -> {
                    try {
                      login.get(20, TimeUnit.SECONDS);
                    } catch (java.util.concurrent.ExecutionException e) {
                      throw (RuntimeException) e.getCause();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  }))
          .as("queued and checked, not refused as busy")
          .isEqualTo(MemberRejected.Kind.UNAUTHORIZED);
    } finally {
      slow.release.countDown();
      hashing.dispose();
    }
  }

  /** A keyed sign-up's repeat checks its password with bcrypt: within the sign-ups' share too. */
  @Test
  void a_keyed_repeat_checks_its_password_within_the_sign_ups_share() {
    Slow slow = new Slow();
    Scheduler hashing = Schedulers.newBoundedElastic(1, 4, "test-bcrypt");
    try {
      Accounts accounts = accounts(slow, hashing, 1);
      String nickname = nick();
      String id = Accounts.playerIdFor("key-" + nickname);
      accounts
          .signUp(nickname, "correct horse", id, true, Instant.EPOCH)
          .block(Duration.ofSeconds(20));
      accounts
          .signUp(nick(), "hold the thread", "p1-" + nick(), Instant.EPOCH)
          .subscribe(a -> {}, e -> {});
      assertThat(await(slow.started)).isTrue();

      assertThat(
              refusal(
                  () ->
                      accounts
                          .signUp(nickname, "correct horse", id, true, Instant.EPOCH)
                          .block(Duration.ofSeconds(20))))
          .isEqualTo(MemberRejected.Kind.BUSY);
    } finally {
      slow.release.countDown();
      hashing.dispose();
    }
  }

  static boolean await(CountDownLatch latch) {
    try {
      return latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
