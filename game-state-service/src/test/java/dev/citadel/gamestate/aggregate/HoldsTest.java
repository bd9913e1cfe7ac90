package dev.citadel.gamestate.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A transaction's hold on one resident, on a clock the test moves (pure: no store). */
class HoldsTest {
  /** Long: the lapse timer never fires during the test; the clock the test moves passes it. */
  static final Duration HOLD = Duration.ofHours(1);

  final AtomicLong clock = new AtomicLong();
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final Counter taken = registry.counter("taken");
  final Counter lapsed = registry.counter("lapsed");
  final Holds<String, String> holds = new Holds<>(clock::get, taken, lapsed);
  Resident<String> r;

  @BeforeEach
  void loadedAtVersion3() {
    r = new Resident<>("p", "state", 0);
    r.loaded = true;
    r.version = 3;
  }

  Prepared<String> vote(String tx, String... events) {
    return new Prepared<>(tx, "p", 3, List.of(events));
  }

  @Test
  void a_vote_holds_until_its_deadline_then_lapses_and_the_copy_reloads() {
    holds.take(r, vote("tx", "gift"), HOLD);
    assertThat(holds.held(r)).isTrue();
    assertThat(holds.holder(r)).isEqualTo("tx");
    clock.set(HOLD.toNanos());
    assertThat(holds.held(r)).isFalse();
    assertThat(r.loaded).as("whatever the coordinator did is read again").isFalse();
    assertThat(taken.count()).isEqualTo(1);
    assertThat(lapsed.count()).isEqualTo(1);
  }

  @Test
  void the_same_transaction_preparing_again_gets_its_vote_another_gets_none() {
    Prepared<String> vote = vote("tx", "gift");
    holds.take(r, vote, HOLD);
    assertThat(holds.heldBy(r, "tx")).isSameAs(vote);
    assertThat(holds.heldBy(r, "other")).isNull();
  }

  @Test
  void a_prepare_sent_again_after_the_deadline_finds_the_hold_lapsed() {
    holds.take(r, vote("tx", "gift"), HOLD);
    clock.set(HOLD.toNanos());
    assertThat(holds.heldBy(r, "tx")).isNull();
    assertThat(lapsed.count()).isEqualTo(1);
  }

  @Test
  void a_commit_ends_its_own_hold() {
    holds.take(r, vote("tx", "gift"), HOLD);
    holds.release(r, "tx");
    assertThat(holds.held(r)).isFalse();
    assertThat(r.loaded).as("the commit read the journal: the copy is current").isTrue();
  }

  @Test
  void a_commit_or_abort_of_another_transaction_leaves_the_hold() {
    holds.take(r, vote("tx"), HOLD); // nothing to write, so only the id keeps it
    holds.release(r, "late");
    holds.abort(r, "late");
    holds.releaseIfNothingToWrite(r, "late");
    assertThat(holds.held(r)).isTrue();
    assertThat(r.loaded).isTrue();
  }

  @Test
  void abort_ends_the_hold_and_reloads_the_copy() {
    holds.take(r, vote("tx", "gift"), HOLD);
    holds.abort(r, "tx");
    assertThat(holds.held(r)).isFalse();
    assertThat(r.loaded).as("the store's outcome may be unknown to the coordinator").isFalse();
  }

  @Test
  void a_failed_commit_read_keeps_a_hold_with_events_and_ends_one_without() {
    holds.take(r, vote("tx", "gift"), HOLD);
    holds.releaseIfNothingToWrite(r, "tx");
    assertThat(holds.held(r)).as("its events come with the next read").isTrue();

    holds.take(r, vote("empty"), HOLD);
    holds.releaseIfNothingToWrite(r, "empty");
    assertThat(holds.held(r)).isFalse();
  }

  @Test
  void the_held_events_found_first_in_the_journal_are_the_transactions_own() {
    holds.take(r, vote("tx", "gift", "xp"), HOLD);
    assertThat(holds.storedAhead(r, 2, List.of("gift", "xp"))).as("other version").isZero();
    assertThat(holds.storedAhead(r, 3, List.of("gift"))).as("not all of it").isZero();
    assertThat(holds.storedAhead(r, 3, List.of("other", "xp"))).as("another writer").isZero();
    assertThat(holds.held(r)).isTrue();
    assertThat(holds.storedAhead(r, 3, List.of("gift", "xp", "later"))).isEqualTo(2);
    assertThat(holds.held(r)).isFalse();
  }

  @Test
  void a_vote_with_nothing_to_write_is_never_found_stored() {
    holds.take(r, vote("tx"), HOLD);
    assertThat(holds.storedAhead(r, 3, List.of("anything"))).isZero();
    assertThat(holds.held(r)).isTrue();
  }

  @Test
  void a_copy_read_on_or_reloaded_past_the_held_version_ends_the_hold() {
    holds.take(r, vote("tx", "gift"), HOLD);
    holds.releaseIfMoved(r);
    assertThat(holds.held(r)).as("still at the held version").isTrue();
    r.version = 5; // a reload found the stream moved on (the transaction's or another's write)
    holds.releaseIfMoved(r);
    assertThat(holds.held(r)).isFalse();
  }
}
