package dev.citadel.gateway.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeasesTest {
  static final long SECOND = 1_000_000_000L;

  /** An ask made before the test's own (its number ends nothing the test asks). */
  static final Leases.Ask EARLIER = new Leases.Ask(1, 0, true, -1);

  /** One request that missed: asks, is given what it wanted, the ask ends. */
  static Leases.Ask miss(Leases leases, String key, long now) {
    Leases.Ask ask = leases.ask(key, 1, 16, now);
    if (ask.lease()) {
      leases.granted(key, ask, ask.wanted(), 1, 1_000, now);
    }
    return ask;
  }

  @Test
  void a_new_key_asks_for_its_own_tokens_only() {
    Leases leases = new Leases(SECOND, 0);
    assertThat(leases.take("p", 1, 0)).isFalse();
    assertThat(leases.ask("p", 1, 16, 0)).isEqualTo(new Leases.Ask(1, 0, true, 1));
    assertThat(leases.ask("q", 3, 16, 0).wanted()).isEqualTo(3);
  }

  @Test
  void a_busy_key_leases_twice_as_many_each_time_up_to_the_most_allowed() {
    Leases leases = new Leases(SECOND, 0);
    List<Integer> asked = new ArrayList<>();
    long now = 0;
    for (int request = 0; request < 100; request++, now += SECOND / 1_000) {
      if (!leases.take("p", 1, now)) {
        asked.add(miss(leases, "p", now).wanted());
      }
    }
    // 1 + 2 + 4 + 8 = 15, then 16 at a time: 100 requests cost 10 asks instead of 100.
    assertThat(asked).containsExactly(1, 2, 4, 8, 16, 16, 16, 16, 16, 16);
  }

  @Test
  void while_a_lease_is_asked_for_other_misses_ask_for_their_own_tokens() {
    Leases leases = new Leases(SECOND, 0);
    miss(leases, "p", 0); // a lease of 1, spent
    Leases.Ask first = leases.ask("p", 1, 16, 1);
    assertThat(first).isEqualTo(new Leases.Ask(2, 0, true, 2));
    // Parallel requests of the same player while that ask is out: one token each, no lease.
    Leases.Ask single = leases.ask("p", 1, 16, 2);
    assertThat(single).isEqualTo(new Leases.Ask(1, 0, false, 0));
    assertThat(leases.ask("p", 1, 16, 3)).isEqualTo(new Leases.Ask(1, 0, false, 0));
    leases.asked("p", single); // not a lease ask: ends nothing
    assertThat(leases.ask("p", 1, 16, 3).lease()).isFalse();
    leases.granted("p", first, 2, 1, 1_000, 4);
    assertThat(leases.take("p", 1, 5)).isTrue();
    Leases.Ask next = leases.ask("p", 1, 16, 6);
    assertThat(next.lease()).as("the first ask ended").isTrue();
    leases.asked("p", first); // the first one's late end does not end the next
    assertThat(leases.ask("p", 1, 16, 7).lease()).isFalse();
  }

  @Test
  void a_lease_ask_without_a_reply_makes_the_next_ask_one_token() {
    Leases leases = new Leases(SECOND, 0);
    for (int i = 0; i < 15; i++) { // leases of 1, 2, 4 and 8, spent
      if (!leases.take("p", 1, i)) {
        miss(leases, "p", i);
      }
    }
    Leases.Ask lost = leases.ask("p", 1, 16, 20);
    assertThat(lost.wanted()).isEqualTo(16);
    leases.failed("p", lost); // Redis timed out: the 16 it may have taken are gone
    Leases.Ask next = leases.ask("p", 1, 16, 21);
    assertThat(next.lease()).as("the failed ask ended").isTrue();
    assertThat(next.wanted()).isEqualTo(1);
  }

  @Test
  void a_cancel_after_the_lease_came_does_not_shrink_the_next() {
    Leases leases = new Leases(SECOND, 0);
    miss(leases, "p", 0); // a lease of 1
    Leases.Ask ask = leases.ask("p", 1, 16, 1);
    leases.granted("p", ask, ask.wanted(), 1, 1_000, 2); // a lease of 2, 1 kept
    leases.failed("p", ask); // the client went away during the proxied call
    assertThat(leases.take("p", 1, 3)).isTrue();
    assertThat(leases.ask("p", 1, 16, 4).wanted()).as("doubled, not reset").isEqualTo(4);
  }

  @Test
  void ask_numbers_never_repeat_so_a_late_end_cannot_end_a_newer_ask_of_a_new_lease() {
    Leases leases = new Leases(SECOND, 0);
    Leases.Ask old = leases.ask("p", 1, 16, 0);
    Leases.Ask other = leases.ask("q", 1, 16, 0);
    assertThat(other.number()).isNotEqualTo(old.number());
    leases.failed("p", old);
    // Much later the key's lease is swept and a new one asks; the old ask's end comes late.
    leases.ask("r", 1, 16, 5 * SECOND); // sweeps
    Leases.Ask fresh = leases.ask("p", 1, 16, 5 * SECOND);
    leases.asked("p", old);
    assertThat(leases.ask("p", 1, 16, 5 * SECOND).lease()).as("fresh still in flight").isFalse();
    assertThat(fresh.number()).isGreaterThan(other.number());
  }

  @Test
  void keys_that_only_ask_are_swept_too_so_a_redis_outage_does_not_grow_memory() {
    Leases leases = new Leases(SECOND, 0);
    for (int i = 0; i < 1_000; i++) {
      Leases.Ask ask = leases.ask("ip:" + i, 1, 16, 0);
      leases.failed("ip:" + i, ask); // Redis down: nothing is ever granted
    }
    assertThat(leases.size()).isEqualTo(1_000);
    leases.ask("late", 1, 16, 3 * SECOND);
    assertThat(leases.size()).isEqualTo(1);
  }

  @Test
  void an_ask_that_never_ended_stops_counting_after_a_lease_time() {
    Leases leases = new Leases(SECOND, 0);
    assertThat(leases.ask("p", 1, 16, 0).lease()).isTrue(); // never answered nor ended
    assertThat(leases.ask("p", 1, 16, SECOND / 2).lease()).isFalse();
    assertThat(leases.ask("p", 1, 16, SECOND).lease()).isTrue();
  }

  @Test
  void a_lease_spends_no_more_than_was_granted_and_nothing_once_it_expired() {
    Leases leases = new Leases(SECOND, 0);
    leases.granted("p", EARLIER, 4, 1, 10, 0); // 3 kept
    assertThat(leases.take("p", 2, 10)).isTrue();
    assertThat(leases.take("p", 2, 10)).as("only one left").isFalse();
    assertThat(leases.remaining("p", 10)).isEqualTo(1 + 10);
    assertThat(leases.take("p", 1, SECOND)).as("expired").isFalse();
    assertThat(leases.remaining("p", SECOND)).isZero();
  }

  @Test
  void what_an_expired_lease_left_goes_back_once_and_halves_the_next() {
    Leases leases = new Leases(SECOND, 0);
    leases.granted("unused", EARLIER, 16, 1, 0, 0); // 15 left when it expires
    Leases.Ask ask = leases.ask("unused", 1, 16, 2 * SECOND);
    assertThat(ask).isEqualTo(new Leases.Ask(8, 15, true, 1));
    leases.asked("unused", ask);
    assertThat(leases.ask("unused", 1, 16, 2 * SECOND).returned()).as("given back once").isZero();

    leases.granted("used", EARLIER, 8, 1, 0, 0);
    for (int i = 0; i < 7; i++) {
      assertThat(leases.take("used", 1, 1)).isTrue();
    }
    assertThat(leases.ask("used", 1, 16, 2 * SECOND)).isEqualTo(new Leases.Ask(8, 0, true, 3));
  }

  @Test
  void a_new_lease_adds_to_what_a_live_one_holds() {
    Leases leases = new Leases(SECOND, 0);
    leases.granted("p", EARLIER, 4, 1, 0, 0); // 3
    leases.granted("p", EARLIER, 2, 1, 0, 10); // 3 + 1
    assertThat(leases.remaining("p", 10)).isEqualTo(4);
  }

  @Test
  void the_most_allowed_caps_a_lease_even_below_its_last_size() {
    Leases leases = new Leases(SECOND, 0);
    leases.granted("p", EARLIER, 16, 16, 0, 0); // used up at once
    Leases.Ask ask = leases.ask("p", 1, 4, 1);
    assertThat(ask.wanted()).isEqualTo(4);
    leases.asked("p", ask);
    assertThat(leases.ask("p", 1, 0, 1).wanted()).as("never below one").isEqualTo(1);
  }

  @Test
  void keys_whose_leases_ended_two_lease_times_ago_are_swept_so_memory_stays_bounded() {
    Leases leases = new Leases(SECOND, 0);
    for (int i = 0; i < 1_000; i++) {
      leases.granted("p" + i, EARLIER, 2, 1, 0, 0);
    }
    leases.granted("recent", EARLIER, 2, 1, 0, SECOND + SECOND / 2);
    assertThat(leases.size()).isEqualTo(1_001);
    // Later: the first ones ended two lease times ago, "recent" half of one ago.
    leases.ask("late", 1, 16, 3 * SECOND);
    assertThat(leases.size()).isEqualTo(2);
  }
}
