package dev.citadel.member.account;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.password.PasswordEncoder;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** bcrypt's queue is bounded: past it a sign-up is refused at once, not queued for seconds. */
class AccountsBusyTest {

  @Test
  void past_its_queue_a_sign_up_is_refused_at_once_as_busy() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    PasswordEncoder slow =
        new PasswordEncoder() {
          @Override
          public String encode(CharSequence raw) {
            if ("hold the thread".contentEquals(raw)) {
              started.countDown();
              try {
                release.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
            return "hash";
          }

          @Override
          public boolean matches(CharSequence raw, String encoded) {
            return false;
          }
        };
    Scheduler hashing = Schedulers.newBoundedElastic(1, 1, "test-bcrypt"); // 1 busy, 1 waiting
    try {
      // The store is never reached by what this test checks.
      Accounts accounts = new Accounts(null, null, null, slow, hashing);
      accounts.signUp("first", "hold the thread", "p1", Instant.EPOCH).subscribe(a -> {}, e -> {});
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      accounts.signUp("second", "hold the thread", "p2", Instant.EPOCH).subscribe(a -> {}, e -> {});

      assertThatThrownBy(
              () ->
                  accounts
                      .signUp("third", "hold the thread", "p3", Instant.EPOCH)
                      .block(Duration.ofSeconds(20)))
          .isInstanceOfSatisfying(
              MemberRejected.class, e -> assertThat(e.kind()).isEqualTo(MemberRejected.Kind.BUSY));
      assertThat(release.getCount())
          .as("refused while the first still hashes: it did not wait its turn")
          .isEqualTo(1);
    } finally {
      release.countDown();
      hashing.dispose();
    }
  }
}
