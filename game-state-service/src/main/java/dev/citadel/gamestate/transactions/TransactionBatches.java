package dev.citadel.gamestate.transactions;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;

/**
 * Keyed transactions (match results; see docs/two-phase-commit.md for why not gifts yet) applied
 * many to a transaction. One waits while {@code maxInFlight} transactions are running; when one
 * finishes, those that waited meanwhile go together ({@link Coordinator#executeAll}: one prepare
 * and one commit per instance, one append, each player's events under its own transaction's key).
 * Nothing waits for a timer: one that finds a slot free runs at once, alone. A batch refused for
 * capacity (overload, a full queue) refuses all its callers (503); one that fails for any other
 * reason (a player held, a repeat, a refusal, a timeout) is not retried as a batch: each of its
 * transactions runs alone ({@code alone}), where it is looked up, retried and answered as before.
 * One whose players are in a running transaction or already in the batch being formed (the same
 * request sent twice) waits for the next one, and then runs alone (a copy of the one that ran would
 * prepare nothing and fail the batch with it), as does one whose key committed recently (the last
 * {@value #RECENT}); one that shares a player with one left waiting waits behind it, so each
 * player's transactions run in the order they came. Waiting is bounded: past {@code maxWaiting} one
 * is refused at once (503, sent again).
 *
 * <p>One unit on purpose (over 300 lines): one job, which transactions run together; the queue, the
 * players running and the keys recently committed are the state each of its rules reads.
 */
public final class TransactionBatches {
  /**
   * One keyed transaction, how to run it on its own, and whether its caller gave up. Equal only to
   * itself (the waiting queue removes it by identity).
   */
  static final class Pending {
    final Coordinator.Keyed tx;
    final Function<Coordinator.Keyed, Mono<Coordinator.Outcome>> alone;
    final MonoSink<Coordinator.Outcome> answer;
    final AtomicBoolean cancelled = new AtomicBoolean();
    final Set<String> players = new HashSet<>();

    /**
     * It met another transaction on its players (running when it came or when a batch was formed,
     * or taken into that batch before it): most likely the same request sent again while the first
     * ran, which would prepare nothing and fail a whole batch. It runs alone. (Waiting behind one
     * left waiting does not set it.)
     */
    volatile boolean metRunning;

    Pending(
        Coordinator.Keyed tx,
        Function<Coordinator.Keyed, Mono<Coordinator.Outcome>> alone,
        MonoSink<Coordinator.Outcome> answer) {
      this.tx = tx;
      this.alone = alone;
      this.answer = answer;
      tx.steps().forEach(s -> players.add(s.playerId()));
    }
  }

  /** Transactions applied together at most (32 results: 320 players in one transaction). */
  public static final int BATCH = 32;

  /** Transactions running at once (each a batch, or one alone). */
  public static final int IN_FLIGHT = 4;

  /** Transactions waiting at most; past it one is refused (503). */
  public static final int WAITING = 4_096;

  /** Transactions of a failed batch running alone at once, in its slot. */
  static final int SPLIT_CONCURRENCY = 2;

  private final Function<List<Coordinator.Keyed>, Mono<String>> together;
  private final int maxInFlight;
  private final int maxBatch;
  private final int maxWaiting;
  private final ConcurrentLinkedDeque<Pending> waiting = new ConcurrentLinkedDeque<>();
  private final AtomicInteger waitingCount = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Set<String> running = ConcurrentHashMap.newKeySet();

  /**
   * Keys of the last {@value #RECENT} transactions that committed (not of refused ones: a retry
   * after a 503 is no copy, and running those alone would shrink batches under overload): one
   * submitted again after its first committed (its players no longer running) is known for a likely
   * copy.
   */
  private final Set<String> recent =
      java.util.Collections.newSetFromMap(
          new java.util.LinkedHashMap<>() {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
              return size() > RECENT;
            }
          });

  /** Keys remembered after their transaction ran. */
  static final int RECENT = 4_096;

  private final Object forming = new Object();
  private final DistributionSummary sizes;
  private final Counter split;
  private final Counter refused;

  /** With the default bounds: {@link #IN_FLIGHT}, {@link #BATCH}, {@link #WAITING}. */
  public TransactionBatches(
      String use, Function<List<Coordinator.Keyed>, Mono<String>> together, MeterRegistry meters) {
    this(use, together, IN_FLIGHT, BATCH, WAITING, meters);
  }

  /**
   * @param use what is batched, in the metrics' names: {@code citadel_<use>_batch_size}, {@code
   *     citadel_<use>_batches_split_total}, {@code citadel_<use>_batches_refused_total}
   * @param together runs several transactions as one ({@link Coordinator#executeAll})
   */
  public TransactionBatches(
      String use,
      Function<List<Coordinator.Keyed>, Mono<String>> together,
      int maxInFlight,
      int maxBatch,
      int maxWaiting,
      MeterRegistry meters) {
    if (maxInFlight < 1 || maxBatch < 1 || maxWaiting < 1) {
      throw new IllegalArgumentException("bounds must be positive");
    }
    this.together = together;
    this.maxInFlight = maxInFlight;
    this.maxBatch = maxBatch;
    this.maxWaiting = maxWaiting;
    this.sizes =
        DistributionSummary.builder("citadel_" + use + "_batch_size")
            .description("Keyed transactions applied as one")
            .register(meters);
    this.split =
        Counter.builder("citadel_" + use + "_batches_split")
            .description("Batches that failed as a whole, then run one by one")
            .register(meters);
    this.refused =
        Counter.builder("citadel_" + use + "_batches_refused")
            .description("Batches refused for capacity: every caller answered 503")
            .register(meters);
  }

  /**
   * Runs the transaction, with others when they wait together (then its outcome names the
   * transaction they shared, not a repeat), or alone.
   */
  public Mono<Coordinator.Outcome> submit(
      Coordinator.Keyed tx, Function<Coordinator.Keyed, Mono<Coordinator.Outcome>> alone) {
    return Mono.create(
        sink -> {
          if (waitingCount.incrementAndGet() > maxWaiting) {
            waitingCount.decrementAndGet();
            sink.error(
                new Refused(
                    Refused.Reason.UNAVAILABLE,
                    "too many waiting to be applied; send the same request again",
                    null));
            return;
          }
          Pending pending = new Pending(tx, alone, sink);
          pending.metRunning =
              pending.players.stream().anyMatch(running::contains) || ranRecently(tx.key().value());
          waiting.addLast(pending);
          // A caller that gives up while it waits takes its transaction out: here if it is in the
          // queue, else (taken out for a moment by take()) the flag drops it there. Once in a
          // transaction it runs: applied, its key answers the caller's retry.
          sink.onCancel(
              () -> {
                if (pending.cancelled.compareAndSet(false, true) && waiting.remove(pending)) {
                  waitingCount.decrementAndGet();
                }
              });
          drain();
        });
  }

  private boolean ranRecently(String key) {
    synchronized (recent) {
      return recent.contains(key);
    }
  }

  private void remember(List<Pending> ran) {
    synchronized (recent) {
      ran.forEach(p -> recent.add(p.tx.key().value()));
    }
  }

  private void drain() {
    while (true) {
      List<Pending> batch = new ArrayList<>();
      Set<String> players = new HashSet<>();
      synchronized (forming) {
        if (inFlight.get() >= maxInFlight || waiting.isEmpty()) {
          return;
        }
        take(batch, players);
        if (batch.isEmpty()) {
          return; // every waiting one meets a running transaction: its end drains again
        }
        inFlight.incrementAndGet();
      }
      run(batch)
          .doFinally(
              signal -> {
                running.removeAll(players);
                inFlight.decrementAndGet();
                drain();
              })
          .subscribe();
    }
  }

  /**
   * Up to {@code maxBatch} waiting transactions with no player in common with a running one or with
   * one left waiting before them (so each player's transactions run in the order they came), into
   * {@code batch}; their players into {@code taken} (and the running set). One that met another
   * transaction on its players runs alone.
   */
  private void take(List<Pending> batch, Set<String> taken) {
    List<Pending> later = new ArrayList<>();
    Set<String> blocked = new HashSet<>(); // players of those left waiting: later ones wait too
    int seen = 0;
    Pending p;
    while (batch.size() < maxBatch && seen < 4 * maxBatch && (p = waiting.pollFirst()) != null) {
      if (p.cancelled.get()) {
        waitingCount.decrementAndGet(); // its caller gave up: dropped, never run (nor counted)
        continue;
      }
      seen++;
      if (!p.metRunning && ranRecently(p.tx.key().value())) {
        p.metRunning = true; // its first committed while it waited
      }
      boolean free = true;
      for (String player : p.players) {
        if (taken.contains(player) || running.contains(player)) {
          p.metRunning = true; // met a transaction on its players: perhaps its copy
          free = false;
          break;
        }
        if (blocked.contains(player)) {
          free = false; // behind one left waiting: keeps its turn, no more
          break;
        }
      }
      if (free && p.metRunning && !batch.isEmpty()) {
        free = false; // alone: first in line for the next batch
      }
      if (free) {
        taken.addAll(p.players);
        batch.add(p);
        if (p.metRunning) {
          break; // alone: nothing joins it
        }
      } else {
        later.add(p);
        blocked.addAll(p.players);
      }
    }
    for (int i = later.size() - 1; i >= 0; i--) {
      waiting.addFirst(later.get(i));
    }
    waitingCount.addAndGet(-batch.size());
    running.addAll(taken);
  }

  private Mono<Void> run(List<Pending> batch) {
    sizes.record(batch.size());
    if (batch.size() == 1) {
      return alone(batch.get(0));
    }
    return Mono.defer(() -> together.apply(batch.stream().map(p -> p.tx).toList()))
        .switchIfEmpty(Mono.error(() -> new IllegalStateException("a batch got no answer")))
        .doOnNext(
            txId -> {
              remember(batch); // before its players leave the running set
              batch.forEach(p -> p.answer.success(new Coordinator.Outcome(txId, false)));
            })
        .then()
        .onErrorResume(
            failed -> {
              if (forCapacity(failed)) {
                // Overload, a full queue: each alone would meet the same, and multiply the load.
                // Every caller is refused (503, sent again). Not a timeout: one slow instance
                // would fail every batch that touches it; split, the others go through.
                refused.increment();
                batch.forEach(p -> p.answer.error(failed));
                return Mono.empty();
              }
              split.increment();
              // Within this batch's slot, a few at a time: a split never runs more transactions
              // at once than the bound allows, by much.
              return Flux.fromIterable(batch).flatMap(this::alone, SPLIT_CONCURRENCY).then();
            });
  }

  /**
   * Refused for an instance's capacity, here or on a participant, certainly before anything was
   * stored ({@link Refused#forCapacity()}). Not one player's full mailbox: that refuses the results
   * of that player's match alone, so the batch is split and the others go through.
   */
  static boolean forCapacity(Throwable e) {
    return e instanceof Refused r && r.forCapacity();
  }

  private Mono<Void> alone(Pending p) {
    return Mono.defer(() -> p.alone.apply(p.tx))
        .doOnNext(
            outcome -> {
              remember(List.of(p));
              p.answer.success(outcome);
            })
        .switchIfEmpty(
            Mono.fromRunnable(
                () -> p.answer.error(new IllegalStateException("a transaction got no answer"))))
        .onErrorResume(
            e -> {
              p.answer.error(e); // answered to its caller; the batch goes on
              return Mono.empty();
            })
        .then();
  }
}
