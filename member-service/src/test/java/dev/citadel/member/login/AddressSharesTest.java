package dev.citadel.member.login;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.member.account.MemberRejected;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

class AddressSharesTest {
  @Test
  void an_address_past_its_share_is_refused_at_once_and_others_are_not() {
    AddressShares shares = new AddressShares(2);
    Disposable first = shares.within("198.51.100.1", Mono.never()).subscribe();
    Disposable second = shares.within("198.51.100.1", Mono.never()).subscribe();

    assertThatThrownBy(() -> shares.within("198.51.100.1", Mono.just(1)).block())
        .isInstanceOfSatisfying(
            MemberRejected.class, e -> assertThat(e.kind()).isEqualTo(MemberRejected.Kind.BUSY));
    assertThat(shares.within("203.0.113.9", Mono.just(1)).block()).isEqualTo(1);

    first.dispose(); // its place is given back when it ends, whichever way
    assertThat(shares.within("198.51.100.1", Mono.just(2)).block()).isEqualTo(2);
    second.dispose();
    assertThat(shares.addresses())
        .as("nothing kept for an address with nothing in flight")
        .isZero();
  }

  @Test
  void an_ipv6_client_counts_by_its_slash_64() {
    AddressShares shares = new AddressShares(1);
    Disposable held = shares.within("2001:db8:77:1::1", Mono.never()).subscribe();
    assertThatThrownBy(() -> shares.within("2001:db8:77:1::2", Mono.just(1)).block())
        .isInstanceOf(MemberRejected.class);
    assertThat(shares.within("2001:db8:77:2::1", Mono.just(1)).block()).isEqualTo(1);
    held.dispose();
  }

  @Test
  void a_failed_check_gives_its_place_back() {
    AddressShares shares = new AddressShares(1);
    assertThatThrownBy(
            () ->
                shares.within("198.51.100.2", Mono.error(new IllegalStateException("no"))).block())
        .hasMessage("no");
    assertThat(shares.within("198.51.100.2", Mono.just(3)).block()).isEqualTo(3);
  }
}
