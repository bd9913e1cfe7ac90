package dev.citadel.member.account;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.security.crypto.password.NoOpPasswordEncoder;
import reactor.core.scheduler.Schedulers;

/**
 * A rename says which nickname it replaced, read under the account row's lock: the log-in
 * throttle's memory moves from that one (until 2026-12-08 the caller read it before the
 * transaction, and a rename another device committed in between was missed: its keys stayed under a
 * nickname the account no longer had).
 */
class AccountsRenameTest extends AccountsDatabase {

  @Test
  void a_rename_names_the_nickname_it_replaced_and_its_keyed_repeat_none() {
    @SuppressWarnings("deprecation")
    Accounts accounts =
        accounts(NoOpPasswordEncoder.getInstance(), Schedulers.boundedElastic(), 16);
    String first = nick().toUpperCase(java.util.Locale.ROOT).replace('B', 'b');
    String second = nick();
    String third = nick();
    String id =
        accounts
            .signUp(first, "correct horse", "p-" + nick(), Instant.EPOCH)
            .block(Duration.ofSeconds(10))
            .playerId();

    Accounts.Renamed toSecond =
        accounts.rename(id, second, null, Instant.EPOCH).block(Duration.ofSeconds(10));
    assertThat(toSecond.account().nickname()).isEqualTo(second);
    assertThat(toSecond.replacedKey()).isEqualTo(Credentials.canonical(first));

    Accounts.Renamed toThird =
        accounts.rename(id, third, "key-" + third, Instant.EPOCH).block(Duration.ofSeconds(10));
    assertThat(toThird.replacedKey()).isEqualTo(Credentials.canonical(second));
    Accounts.Renamed repeat =
        accounts.rename(id, third, "key-" + third, Instant.EPOCH).block(Duration.ofSeconds(10));
    assertThat(repeat.account().nickname()).isEqualTo(third);
    assertThat(repeat.replacedKey()).isEqualTo(Optional.empty());
  }
}
