package dev.citadel.gamestate.aggregate;

import io.micrometer.core.instrument.Counter;
import java.time.Duration;
import java.util.List;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * The participant side of a two-phase transaction, on one resident aggregate: a prepared vote holds
 * the aggregate (the host refuses other commands and transactions, {@link Held}) until its commit
 * or abort arrives, the journal shows it stored, the copy moves past the held version, or the hold
 * lapses. Every method runs inside the resident's mailbox turn, the lapse timer's included, so a
 * hold is never seen half changed.
 */
final class Holds<S, E> {
  private static final Logger log = LoggerFactory.getLogger(Holds.class);

  private final LongSupplier nanoTime;
  private final Counter taken;
  private final Counter lapsed;

  Holds(LongSupplier nanoTime, Counter taken, Counter lapsed) {
    this.nanoTime = nanoTime;
    this.taken = taken;
    this.lapsed = lapsed;
  }

  /** Whether a transaction holds the aggregate now (a hold past its deadline lapses here). */
  boolean held(Resident<S> r) {
    if (r.hold == null) {
      return false;
    }
    if (nanoTime.getAsLong() - r.hold.deadlineNanos() >= 0) {
      lapse(r); // the timer may not have run yet
      return false;
    }
    return true;
  }

  /** The transaction holding the aggregate (call only when {@link #held}). */
  String holder(Resident<S> r) {
    return r.hold.prepared().transactionId();
  }

  /** This transaction's vote, if it holds the aggregate now: a prepare sent again gets it. */
  @SuppressWarnings("unchecked")
  Prepared<E> heldBy(Resident<S> r, String txId) {
    return held(r) && holder(r).equals(txId) ? (Prepared<E>) r.hold.prepared() : null;
  }

  /** Holds the aggregate for the vote until {@code holdFor} has passed. */
  void take(Resident<S> r, Prepared<E> prepared, Duration holdFor) {
    Resident.Hold<?> hold = new Resident.Hold<>(prepared, nanoTime.getAsLong() + holdFor.toNanos());
    r.hold = hold;
    taken.increment();
    scheduleLapse(r, hold, holdFor);
  }

  /** The commit was applied (or nothing of it was stored): the hold, if still this one's, ends. */
  void release(Resident<S> r, String txId) {
    if (isHeldBy(r, txId)) {
      r.hold = null;
    }
  }

  /**
   * A commit whose journal read failed keeps its hold (the next read applies the events with their
   * after-commit work), unless its vote had nothing to write: never stored, nothing to keep, and no
   * later read would find anything to release it by.
   */
  void releaseIfNothingToWrite(Resident<S> r, String txId) {
    if (isHeldBy(r, txId) && r.hold.prepared().events().isEmpty()) {
      r.hold = null;
    }
  }

  /**
   * Abort: nothing was stored, or the coordinator could not learn whether it was: the hold ends and
   * the next use reloads rather than trust this copy.
   */
  void abort(Resident<S> r, String txId) {
    if (isHeldBy(r, txId)) {
      r.hold = null;
      r.loaded = false;
    }
  }

  /**
   * How many of the events read after {@code from} are the holding transaction's own, stored before
   * its commit message came (0 if none): the caller commits those with their after-commit work. The
   * hold ends when they are found.
   */
  int storedAhead(Resident<S> r, long from, List<E> newer) {
    if (r.hold == null || r.hold.prepared().expectedVersion() != from) {
      return 0;
    }
    List<?> held = r.hold.prepared().events();
    int n = held.size();
    if (n == 0 // a vote with nothing to write is never stored
        || newer.size() < n
        || !newer.subList(0, n).equals(held)) {
      return 0;
    }
    r.hold = null;
    return n;
  }

  /**
   * The copy moved past the held version (read on or reloaded): the holding transaction was stored
   * (its commit message is late or lost) or can no longer be. Either way the hold ends; held on, it
   * refused every command until the lapse.
   */
  void releaseIfMoved(Resident<S> r) {
    if (r.hold != null && r.hold.prepared().expectedVersion() != r.version) {
      r.hold = null;
    }
  }

  private boolean isHeldBy(Resident<S> r, String txId) {
    return r.hold != null && r.hold.prepared().transactionId().equals(txId);
  }

  /**
   * Lapses this very hold when its time is up: not another hold of the same transaction (a prepare
   * sent again after this one lapsed early, in {@link #held}), whose own timer runs later.
   */
  private void scheduleLapse(Resident<S> r, Resident.Hold<?> hold, Duration holdFor) {
    Mono.delay(holdFor)
        .flatMap(
            t ->
                r.run(
                    x -> {
                      if (r.hold == hold) {
                        lapse(r);
                      }
                      return Mono.empty();
                    },
                    nanoTime.getAsLong()))
        .onErrorResume(Resident.Retired.class, e -> Mono.empty())
        .subscribe();
  }

  /** No decision in time: forget the hold and reload before the next use. */
  private void lapse(Resident<S> r) {
    log.info("hold of {} by {} lapsed: reloading", r.id, holder(r));
    r.hold = null;
    r.loaded = false;
    lapsed.increment();
  }
}
