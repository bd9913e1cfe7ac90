package dev.citadel.gateway.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeasesTest {
  static final long SECOND = 1_000_000_000L;

  @Test
  void a_new_key_asks_for_its_own_tokens_only() {
    Leases leases = new Leases(SECOND, 0);
    assertThat(leases.take("p", 1, 0)).isFalse();
    assertThat(leases.wanted("p", 1, 16, 0)).isEqualTo(1);
    assertThat(leases.wanted("p", 3, 16, 0)).isEqualTo(3);
  }

  @Test
  void a_busy_key_leases_twice_as_many_each_time_up_to_the_most_allowed() {
    Leases leases = new Leases(SECOND, 0);
    List<Integer> asked = new ArrayList<>();
    int served = 0;
    long now = 0;
    for (int request = 0; request < 100; request++, now += SECOND / 1_000) {
      if (leases.take("p", 1, now)) {
        served++;
        continue;
      }
      int wanted = leases.wanted("p", 1, 16, now);
      asked.add(wanted);
      leases.granted("p", wanted, 1, now);
      served++;
    }
    assertThat(served).isEqualTo(100);
    // 1 + 2 + 4 + 8 = 15, then 16 at a time: 100 requests cost 10 asks instead of 100.
    assertThat(asked).containsExactly(1, 2, 4, 8, 16, 16, 16, 16, 16, 16);
  }

  @Test
  void a_lease_spends_no_more_than_was_granted_and_nothing_once_it_expired() {
    Leases leases = new Leases(SECOND, 0);
    leases.granted("p", 4, 1, 0); // 3 kept
    assertThat(leases.take("p", 2, 10)).isTrue();
    assertThat(leases.take("p", 2, 10)).as("only one left").isFalse();
    assertThat(leases.left("p", 10)).isEqualTo(1);
    assertThat(leases.take("p", 1, SECOND)).as("expired").isFalse();
    assertThat(leases.left("p", SECOND)).isZero();
  }

  @Test
  void an_expired_lease_with_tokens_left_halves_the_next_and_one_used_up_keeps_its_size() {
    Leases leases = new Leases(SECOND, 0);
    leases.granted("unused", 16, 1, 0); // 15 left when it expires
    assertThat(leases.wanted("unused", 1, 16, 2 * SECOND)).isEqualTo(8);

    leases.granted("used", 8, 1, 0);
    for (int i = 0; i < 7; i++) {
      assertThat(leases.take("used", 1, 1)).isTrue();
    }
    assertThat(leases.wanted("used", 1, 16, 2 * SECOND)).isEqualTo(8);
  }

  @Test
  void a_new_lease_adds_to_what_a_live_one_holds_and_drops_an_expired_ones_rest() {
    Leases leases = new Leases(SECOND, 0);
    leases.granted("p", 4, 1, 0); // 3
    leases.granted("p", 2, 1, 10); // two requests raced to the bucket: 3 + 1
    assertThat(leases.left("p", 10)).isEqualTo(4);
    leases.granted("p", 2, 1, 3 * SECOND); // the 4 expired: only the new 1
    assertThat(leases.left("p", 3 * SECOND)).isEqualTo(1);
  }

  @Test
  void the_most_allowed_caps_a_lease_even_below_its_last_size() {
    Leases leases = new Leases(SECOND, 0);
    leases.granted("p", 16, 16, 0); // used up at once
    assertThat(leases.wanted("p", 1, 4, 1)).isEqualTo(4);
    assertThat(leases.wanted("p", 1, 0, 1)).as("never below one").isEqualTo(1);
  }

  @Test
  void keys_whose_leases_expired_are_swept_so_memory_stays_bounded() {
    Leases leases = new Leases(SECOND, 0);
    for (int i = 0; i < 1_000; i++) {
      leases.granted("p" + i, 2, 1, 0);
    }
    assertThat(leases.size()).isEqualTo(1_000);
    leases.granted("late", 2, 1, 2 * SECOND); // a lease time later: the expired ones go
    assertThat(leases.size()).isEqualTo(1);
  }
}
