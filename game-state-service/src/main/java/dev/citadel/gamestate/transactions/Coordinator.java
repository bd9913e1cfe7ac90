package dev.citadel.gamestate.transactions;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.eventstore.StoreBusy;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.aggregate.KeyReused;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Two-phase commit across players, wherever they live:
 *
 * <ol>
 *   <li>Prepare: every participant decides its command on its player's current state, holds the
 *       player and answers with the events and the expected version.
 *   <li>Store: all participants' events in ONE database transaction, each stream at its expected
 *       version (the event store's multi-stream append).
 *   <li>Commit: participants apply their events and release. A lost commit message is harmless: the
 *       participant's hold lapses and it reloads, finding the stored events.
 * </ol>
 *
 * Any refusal, error or timeout before the store aborts: holds are released and nothing is stored.
 * The transaction id makes each step idempotent at the participant.
 *
 * <p>One unit on purpose (over 300 lines): one transaction's steps, its key's lookups and its
 * variant for several keyed transactions at once share the prepare, store and commit above.
 */
public final class Coordinator {
  private static final Logger log = LoggerFactory.getLogger(Coordinator.class);
  static final String TYPE = "player";
  private static final int BUSY_RETRIES = 4;

  public record Settings(Duration prepareTimeout, Duration commitTimeout) {}

  private final EventStore store;
  private final Function<String, Participant> ownerOf;
  private final Settings settings;
  private final Clock clock;
  private final Counter committed;
  private final Counter aborted;
  private final Timer prepareLatency;
  private final Timer commitLatency;

  public Coordinator(
      EventStore store,
      Function<String, Participant> ownerOf,
      Settings settings,
      Clock clock,
      MeterRegistry meters) {
    this.store = store;
    this.ownerOf = ownerOf;
    this.settings = settings;
    this.clock = clock;
    this.committed = Counter.builder("citadel_tx").tag("outcome", "committed").register(meters);
    this.aborted = Counter.builder("citadel_tx").tag("outcome", "aborted").register(meters);
    this.prepareLatency =
        Timer.builder("citadel_tx_prepare_seconds").publishPercentileHistogram().register(meters);
    this.commitLatency =
        Timer.builder("citadel_tx_commit_seconds")
            .description("From the store to every participant's commit")
            .publishPercentileHistogram()
            .register(meters);
  }

  /** A committed transaction: its id, or {@code repeated} when its key was used before. */
  public record Outcome(String transactionId, boolean repeated) {}

  /**
   * Runs the steps as one transaction; completes with the transaction id once committed. Refused
   * because a player is held by another transaction, it tries again a few times after a short
   * random pause (a fresh transaction id each time), so two transactions that meet on the same
   * players in opposite order both finish.
   */
  public Mono<String> execute(List<Step> steps) {
    return execute(steps, null).map(Outcome::transactionId);
  }

  /**
   * The same, at most once per {@code key} (a client's Idempotency-Key): the key is stored with
   * every participant's events; a transaction whose key the first participant holds already is not
   * run again ({@link Outcome#repeated}), the same key with other steps is {@link KeyReused}.
   */
  public Mono<Outcome> execute(List<Step> steps, IdempotencyKey key) {
    Mono<Outcome> once =
        Mono.defer(
            () -> {
              String txId = UUID.randomUUID().toString();
              return execute(
                  txId,
                  steps,
                  key == null ? IdempotencyKey.of("tx:" + txId, txId) : key,
                  key != null);
            });
    // With a key, every try after the first looks it up first: a player held by the same
    // transaction sent twice (a client's retry racing its original) is busy until the original
    // commits, and the try after that must answer "repeated", not run the steps again (commands
    // that are no-ops the second time would store nothing and report a first run). The first try
    // needs no lookup (four round trips): a repeat that prepares nothing is looked up after the
    // prepare, one that prepares events meets its key at the store (the streams holding it are
    // not appended: a conflict), and one its players refuse is looked up below.
    AtomicBoolean tried = new AtomicBoolean();
    Mono<Outcome> attempt =
        key == null
            ? once
            : Mono.defer(
                () ->
                    tried.getAndSet(true)
                        ? stored(steps, key)
                            .flatMap(done -> done ? Mono.just(new Outcome("", true)) : once)
                        : once);
    Mono<Outcome> run =
        attempt.retryWhen(
            reactor.util.retry.Retry.backoff(BUSY_RETRIES, Duration.ofMillis(5))
                .jitter(1.0)
                .filter(e -> e instanceof Refused r && r.getCause() instanceof Held)
                .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
    if (key == null) {
      return run;
    }
    // A refusal of a keyed transaction is looked up before it is answered: the store's conflict
    // (the key met at the append), and a repeat its players refuse at prepare (a friend request
    // asked already, a gift whose giver has spent the gold on it), which the first try no longer
    // looks up beforehand. Not a refusal for capacity (UNAVAILABLE: overload, a full pool, a
    // timeout): that is answered at once, and the caller's retry looks the key up. A lookup that
    // fails answers the refusal itself.
    return run.onErrorResume(
        e -> e instanceof Refused r && r.reason() != Refused.Reason.UNAVAILABLE,
        e ->
            stored(steps, key)
                .onErrorResume(lookup -> !(lookup instanceof KeyReused), lookup -> Mono.just(false))
                .flatMap(d -> d ? Mono.just(new Outcome("", true)) : Mono.error(e)));
  }

  /**
   * Whether the transaction of this key was stored (its first participant holds the key); {@link
   * KeyReused} when the key was stored with other steps.
   */
  public Mono<Boolean> stored(List<Step> steps, IdempotencyKey key) {
    return store
        .findKey(steps.get(0).playerId(), key.value())
        .map(
            found -> {
              if (!found.fingerprint().equals(key.fingerprint())) {
                throw new KeyReused(steps.get(0).playerId(), key.value());
              }
              return true;
            })
        .defaultIfEmpty(false);
  }

  /** Several keyed transactions run as one: see {@link #executeAll}. */
  public record Keyed(List<Step> steps, IdempotencyKey key) {}

  /**
   * Several keyed transactions as one (one prepare and one commit per participant, one append for
   * all): each player's events are stored under its own transaction's key, so each stays a repeat
   * of itself for a later lookup. All or none, once: any refusal or error, a player held, or a
   * transaction that prepares nothing (a repeat, perhaps, which only its key can tell) fails the
   * whole, aborted, and the caller runs them one by one ({@link #execute(List, IdempotencyKey)}),
   * where each is looked up and retried on its own. Players must be distinct across the
   * transactions. Completes with the transaction id once committed.
   */
  public Mono<String> executeAll(List<Keyed> transactions) {
    java.util.Map<String, IdempotencyKey> keys = new java.util.HashMap<>();
    List<Step> steps = new ArrayList<>();
    for (Keyed t : transactions) {
      for (Step s : t.steps()) {
        if (keys.put(s.playerId(), t.key()) != null) {
          return Mono.error(
              new IllegalArgumentException("player " + s.playerId() + " is in two transactions"));
        }
        steps.add(s);
      }
    }
    if (steps.isEmpty()) {
      return Mono.error(new IllegalArgumentException("no steps"));
    }
    String txId = UUID.randomUUID().toString();
    return Mono.defer(
        () ->
            run(
                    txId,
                    steps,
                    votes -> {
                      java.util.Set<String> storing = new java.util.HashSet<>();
                      for (Vote v : votes) {
                        if (!v.events().isEmpty()) {
                          storing.add(v.playerId());
                        }
                      }
                      for (Keyed t : transactions) {
                        if (t.steps().stream().noneMatch(s -> storing.contains(s.playerId()))) {
                          return Mono.error(
                              new Refused(
                                  Refused.Reason.CONFLICT,
                                  "transaction "
                                      + t.key().value()
                                      + " prepared nothing: it is looked up on its own",
                                  null));
                        }
                      }
                      return store(votes, keys::get, true)
                          .flatMap(
                              stored ->
                                  stored == Stored.REPEAT
                                      ? Mono.error(
                                          new Refused(
                                              Refused.Reason.CONFLICT,
                                              "a repeat among the transactions: nothing stored",
                                              null))
                                      : Mono.just(stored));
                    })
                .map(Outcome::transactionId));
  }

  Mono<Outcome> execute(String txId, List<Step> steps, IdempotencyKey key, boolean clientKey) {
    // Nothing to store under a client's key may mean the request ran before: every player is
    // held and caught up now, so the key is looked up once more (found: a repeat, and the
    // commits only release the holds).
    return run(
        txId,
        steps,
        votes ->
            clientKey && !votes.isEmpty() && votes.stream().allMatch(v -> v.events().isEmpty())
                ? stored(steps, key).map(repeat -> repeat ? Stored.REPEAT : Stored.NOTHING)
                : store(votes, player -> key, clientKey));
  }

  /** What the store step did. */
  private enum Stored {
    /** This append wrote every vote's events, each at its expected version (it said so). */
    APPENDED,
    /** Written, as a lookup after an ambiguous failure found: committed from the journal. */
    FOUND,
    /** Nothing to write. */
    NOTHING,
    /** Stored before, by an earlier run of the key: this one stored nothing. */
    REPEAT
  }

  /**
   * Prepare, then {@code storing} the votes, then commit (with the versions this transaction's own
   * append stored, so participants apply their votes without reading them back); aborted on any
   * failure. Once started it runs to its end whatever its caller does: a caller that goes away (a
   * client closing its connection, the gateway's timeout) only drops the answer. Cancelled with the
   * request, a transaction sent neither its commit nor its abort and left its players held until
   * the holds lapsed (a free way to lock any player out for seconds, again and again), and a stored
   * one's commit and its after-commit work waited for the next read.
   */
  private Mono<Outcome> run(
      String txId, List<Step> steps, Function<List<Vote>, Mono<Stored>> storing) {
    return RunsToEnd.of(() -> runToEnd(txId, steps, storing));
  }

  private Mono<Outcome> runToEnd(
      String txId, List<Step> steps, Function<List<Vote>, Mono<Stored>> storing) {
    long started = System.nanoTime();
    // Owners are looked up once: the instances that are up may change mid-transaction, and the
    // commit or abort must reach the participant that prepared (and holds) the player. Each
    // participant is called once, with all its players (not once per player).
    java.util.Map<String, Participant> owners = new java.util.HashMap<>();
    java.util.Map<Participant, List<Step>> byOwner = new java.util.LinkedHashMap<>();
    for (Step s : steps) {
      Participant owner = owners.computeIfAbsent(s.playerId(), ownerOf);
      byOwner.computeIfAbsent(owner, p -> new ArrayList<>()).add(s);
    }
    return Flux.fromIterable(byOwner.entrySet())
        .flatMap(e -> e.getKey().prepareAll(txId, e.getValue()).timeout(settings.prepareTimeout()))
        .flatMapIterable(votes -> votes)
        .collectList()
        .doOnSuccess(v -> prepareLatency.record(System.nanoTime() - started, TimeUnit.NANOSECONDS))
        .flatMap(
            votes ->
                storing
                    .apply(votes)
                    .flatMap(
                        stored -> {
                          boolean repeated = stored == Stored.REPEAT;
                          return commitAll(
                                  txId,
                                  byOwner,
                                  stored == Stored.APPENDED ? storedAt(votes) : Map.of())
                              .map(id -> new Outcome(repeated ? "" : id, repeated));
                        }))
        .doOnSuccess(outcome -> committed.increment())
        .onErrorResume(
            e ->
                abortAll(txId, byOwner)
                    .then(
                        Mono.error(
                            () -> {
                              aborted.increment();
                              return Refusals.of(e);
                            })));
  }

  /**
   * One multi-stream append of every vote's events, each stream keyed with its transaction's key
   * ({@code keyOf} the player). A failure that may have happened after the commit (a lost
   * connection) is looked up, not guessed: every transaction's key (several when transactions run
   * as one) found, each on its first stream where this append would have written it, means the
   * append is stored (all of it: one database transaction), and it goes on to its commits ({@link
   * Stored#FOUND}); one key found written earlier means that transaction is a repeat and this
   * append stored nothing. One key alone would not do for several: another copy of the first
   * transaction, prepared at the same version elsewhere and stored there, would pass for this
   * append, and the others would be answered as stored when nothing of them was.
   */
  private Mono<Stored> store(
      List<Vote> votes, Function<String, IdempotencyKey> keyOf, boolean clientKey) {
    List<AppendRequest> appends = new ArrayList<>();
    for (Vote v : votes) {
      if (!v.events().isEmpty()) {
        appends.add(
            new AppendRequest(TYPE, v.playerId(), v.expectedVersion(), v.events(), clock.instant())
                .withKey(keyOf.apply(v.playerId())));
      }
    }
    if (appends.isEmpty()) {
      return Mono.just(Stored.NOTHING);
    }
    return store
        .appendAtomically(appends)
        .thenReturn(Stored.APPENDED)
        .onErrorResume(
            // StoreBusy: never sent to the database, so not in doubt.
            e ->
                !(e instanceof ConcurrencyConflict)
                    && !(e instanceof IllegalArgumentException)
                    && !(e instanceof StoreBusy),
            e -> {
              // Each transaction's first stream: where its key is looked up.
              Map<IdempotencyKey, AppendRequest> firstOfEach = new java.util.LinkedHashMap<>();
              for (AppendRequest a : appends) {
                firstOfEach.putIfAbsent(keyOf.apply(a.aggregateId()), a);
              }
              return Flux.fromIterable(firstOfEach.entrySet())
                  .index()
                  // The first lookup waits for the appends still running (once: the others
                  // come after it, and later appends are not this one).
                  .concatMap(k -> lookUp(k.getT2().getValue(), k.getT2().getKey(), k.getT1() == 0))
                  .collectList()
                  .flatMap(
                      found -> {
                        if (found.contains(Stored.REPEAT)) {
                          return Mono.just(Stored.REPEAT); // this append stored nothing
                        }
                        // All or none: one key missing means this append was not stored.
                        return found.size() == firstOfEach.size()
                            ? Mono.just(Stored.FOUND)
                            : Mono.<Stored>error(e);
                      })
                  .onErrorMap(
                      lookup -> lookup != e && !(lookup instanceof KeyReused),
                      lookup -> new OutcomeUnknown(e, clientKey));
            });
  }

  /**
   * Where {@code key} is on the stream {@code a} appends to: {@link Stored#FOUND} where {@code a}
   * would have written it, {@link Stored#REPEAT} where an earlier append did (this one met it and
   * stored nothing), empty when it is not there; {@link KeyReused} when another request holds it.
   */
  private Mono<Stored> lookUp(AppendRequest a, IdempotencyKey key, boolean first) {
    return (first
            ? store.findKeyAfterFailure(a.aggregateId(), key.value())
            : store.findKey(a.aggregateId(), key.value()))
        .map(
            found -> {
              if (!found.fingerprint().equals(key.fingerprint())) {
                // Another request with this key got there first: not ours.
                throw new KeyReused(a.aggregateId(), key.value());
              }
              return found.firstSeq() != a.expectedVersion() + 1 ? Stored.REPEAT : Stored.FOUND;
            });
  }

  /** The players whose votes carry events, each at the version it expected. */
  private static Map<String, Long> storedAt(List<Vote> votes) {
    Map<String, Long> at = new java.util.HashMap<>();
    for (Vote v : votes) {
      if (!v.events().isEmpty()) {
        at.put(v.playerId(), v.expectedVersion());
      }
    }
    return at;
  }

  /**
   * Every prepared player (one vote per step) is committed, one call per participant; {@code
   * stored}: the versions this transaction's own append wrote (see {@link Participant#commitAll(
   * String, List, Map)}).
   */
  private Mono<String> commitAll(
      String txId, java.util.Map<Participant, List<Step>> byOwner, Map<String, Long> stored) {
    long since = System.nanoTime();
    // Stored means committed: a participant that misses this message reloads when its hold lapses.
    return Flux.fromIterable(byOwner.entrySet())
        .flatMap(
            e ->
                e.getKey()
                    .commitAll(txId, playerIds(e.getValue()), only(stored, e.getValue()))
                    .timeout(settings.commitTimeout())
                    .onErrorResume(
                        failure -> {
                          log.warn(
                              "commit of {} at the owner of {} not confirmed: their holds will"
                                  + " lapse",
                              txId,
                              e.getValue().get(0).playerId(),
                              failure);
                          return Mono.empty();
                        }))
        .then(
            Mono.fromSupplier(
                () -> {
                  commitLatency.record(System.nanoTime() - since, TimeUnit.NANOSECONDS);
                  return txId;
                }));
  }

  private Mono<Void> abortAll(String txId, java.util.Map<Participant, List<Step>> byOwner) {
    return Flux.fromIterable(byOwner.entrySet())
        .flatMap(
            e ->
                e.getKey()
                    .abortAll(txId, playerIds(e.getValue()))
                    .timeout(settings.commitTimeout())
                    .onErrorResume(
                        failure -> {
                          // Their holds lapse on their own.
                          log.warn(
                              "abort of {} at {}'s owner failed: {}",
                              txId,
                              e.getValue().get(0).playerId(),
                              failure.toString());
                          return Mono.empty();
                        }))
        .then();
  }

  /** The stored versions of these steps' players (each participant hears only of its own). */
  private static Map<String, Long> only(Map<String, Long> stored, List<Step> steps) {
    if (stored.isEmpty()) {
      return stored;
    }
    Map<String, Long> mine = new java.util.HashMap<>();
    for (Step s : steps) {
      Long at = stored.get(s.playerId());
      if (at != null) {
        mine.put(s.playerId(), at);
      }
    }
    return mine;
  }

  private static List<String> playerIds(List<Step> steps) {
    return steps.stream().map(Step::playerId).toList();
  }
}
