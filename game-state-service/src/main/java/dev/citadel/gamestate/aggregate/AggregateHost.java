package dev.citadel.gamestate.aggregate;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.Appended;
import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.eventstore.KeyRecord;
import dev.citadel.eventstore.LoadedStream;
import dev.citadel.eventstore.Snapshot;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.eventstore.StoreBusy;
import dev.citadel.eventstore.StoredEvent;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Holds aggregates of one type in memory on this instance and runs their commands.
 *
 * <ul>
 *   <li>Commands to one aggregate run strictly one at a time; different aggregates in parallel.
 *   <li>State changes only after the events are durable in the store.
 *   <li>First use recovers the aggregate (newest snapshot + later events), with a bound on
 *       concurrent recoveries.
 *   <li>If the store says another writer got there first ({@link ConcurrencyConflict}), the cached
 *       copy is dropped, reloaded, and the command decided again, once.
 *   <li>Idle aggregates are passivated (idle timeout, maximum resident count).
 * </ul>
 *
 * <p>One unit on purpose (over 300 lines): commands, reads, two-phase holds and passivation all act
 * on the same resident entry under its one mailbox turn (a hold blocks commands, passivation must
 * not drop an entry that holds or has queued work), so their state and its invariants live
 * together. The mailbox ({@link Resident}), the recovery bound ({@link ConcurrencyLimiter}), reads'
 * grouped version checks ({@link VersionChecks}) and commits' grouped reads of the journal ({@link
 * ReadAheads}), the transactions' holds ({@link Holds}) and the meters ({@link HostMeters}) are
 * classes of their own. What is left is the path of a command (decide, append, look up an ambiguous
 * failure, retry a conflict once), of a copy (load, catch up, passivate), and the transaction's
 * entry points (prepare, commit, abort), which share both.
 */
public final class AggregateHost<S, C, E> {
  private static final Logger log = LoggerFactory.getLogger(AggregateHost.class);

  /**
   * Reads' version checks: up to this many streams a query, one query at a time (with two, reads at
   * a few thousand a second mostly found a slot free and went one or two to a query: less gained,
   * see docs/game-state.md).
   */
  private static final int VERSION_CHECK_BATCH = 500;

  private static final int VERSION_CHECKS_IN_FLIGHT = 1;

  /**
   * A version check that has not answered by then fails its reads and those waiting behind it (a
   * stuck query); a read that waited this long for its check to start is refused (a slow one).
   */
  private static final Duration VERSION_CHECK_TIMEOUT = Duration.ofSeconds(5);

  private final AggregateType<S, C, E> type;
  private final EventStore store;
  private final SnapshotPolicy snapshots;
  private final HostOptions options;
  private final List<AfterCommit<S, E>> afterCommit;
  private final LongSupplier nanoTime;
  private final Map<String, Resident<S>> residents = new ConcurrentHashMap<>();
  private final ConcurrencyLimiter recoveries;
  private final VersionChecks versionChecks;

  /** Commits' reads of the journal, grouped. */
  private final ReadAheads readAheads;

  private final HostMeters meters;
  private final Holds<S, E> holds;

  public AggregateHost(
      AggregateType<S, C, E> type,
      EventStore store,
      SnapshotPolicy snapshots,
      HostOptions options,
      List<AfterCommit<S, E>> afterCommit,
      MeterRegistry meters,
      LongSupplier nanoTime) {
    this.type = type;
    this.store = store;
    this.snapshots = snapshots;
    this.options = options;
    this.afterCommit = List.copyOf(afterCommit);
    this.nanoTime = nanoTime;
    this.recoveries =
        new ConcurrencyLimiter(options.maxConcurrentRecoveries(), options.maxWaitingRecoveries());
    this.versionChecks =
        new VersionChecks(
            ids -> store.versions(ids).timeout(VERSION_CHECK_TIMEOUT),
            VERSION_CHECK_BATCH,
            VERSION_CHECKS_IN_FLIGHT,
            options.maxWaitingReads(),
            VERSION_CHECK_TIMEOUT,
            nanoTime);
    this.readAheads = new ReadAheads(store, options, nanoTime);
    this.meters = new HostMeters(meters, type.name(), residents);
    this.holds = new Holds<>(nanoTime, this.meters.holdsTaken, this.meters.holdsLapsed);
  }

  /** Runs a command; the result arrives after its events are durable. */
  public Mono<CommandResult<S, E>> handle(String id, C command, Instant at) {
    return onResident(id, r -> execute(r, command, at, null));
  }

  /**
   * Runs a command at most once per key: the key is stored with the events in the same statement; a
   * command whose key the aggregate already holds changes nothing and answers {@link
   * CommandResult#repeated} (the same key with a different fingerprint: {@link KeyReused}).
   */
  public Mono<CommandResult<S, E>> handle(String id, C command, Instant at, IdempotencyKey key) {
    return onResident(id, r -> execute(r, command, at, key));
  }

  /**
   * What a keyed command stored, answered as its repeat ({@link CommandResult#repeated}), or empty
   * if no command ran with that key ({@link KeyReused} for the key with another fingerprint). For a
   * request that can no longer be decided as it was sent (a purchase whose item has left the
   * catalogue since): its retry still answers what the first did.
   */
  public Mono<CommandResult<S, E>> stored(String id, IdempotencyKey key) {
    return onResident(
        id,
        r ->
            ensureLoaded(r)
                .then(
                    Mono.defer(
                        () ->
                            store
                                .findKey(r.id, key.value())
                                .flatMap(found -> repeat(r, key, found)))));
  }

  /**
   * The aggregate's state and version as the journal has it now, without keeping it here (a
   * projection rebuilt from the journal reads every aggregate once); empty if it does not exist.
   */
  public Mono<CommandResult<S, E>> readFromJournal(String id) {
    return recoveries
        .limit(store.load(id).flatMap(this::readable))
        .filter(LoadedStream::exists)
        .map(loaded -> new CommandResult<S, E>(recover(id, loaded), loaded.version(), List.of()));
  }

  /**
   * The aggregate's current state: recovered if not resident, and checked against the stream's
   * stored version, so a read after an ownership change never answers from a stale copy. The check
   * is grouped ({@link VersionChecks}: one query for the reads that arrive together); a copy at the
   * stored version answers from memory, one behind it reads the newer events.
   */
  public Mono<CommandResult<S, E>> get(String id) {
    return onResident(
        id, r -> current(r, true).then(Mono.fromSupplier(() -> result(r, List.of()))));
  }

  /**
   * The copy caught up with the journal, checking the stored version first (grouped with the other
   * checks that arrive together) and reading the stream only when it is behind: what {@link
   * #catchUp} gives, without a query per aggregate when the copy is current.
   */
  private Mono<Void> current(Resident<S> r, boolean read) {
    if (!r.loaded || r.version == 0) {
      return catchUp(r); // loads (a stream at version 0 may have been created since)
    }
    return versionChecks
        .version(r.id)
        .flatMap(
            stored -> {
              if (stored == r.version) {
                if (read) {
                  meters.readsFromMemory.increment();
                }
                return Mono.empty();
              }
              if (read) {
                meters.readsCaughtUp.increment();
              }
              return catchUp(r)
                  .then(
                      Mono.defer(
                          () -> {
                            if (r.loaded && r.version < stored) {
                              // Nothing after the copy's version is left to read: retention cut
                              // every event it missed, up to a snapshot past it. Load that.
                              r.loaded = false;
                              return ensureLoaded(r);
                            }
                            return Mono.empty();
                          }));
            })
        .then();
  }

  /**
   * Which of these aggregates have a stored history: one query for all of them, instead of a
   * recovery each (for bulk work that should skip aggregates that were never created).
   */
  public Mono<Set<String>> existing(Collection<String> ids) {
    return store.versions(ids).map(versions -> Set.copyOf(versions.keySet()));
  }

  public int residentCount() {
    return residents.size();
  }

  /** Work a caller may be refused ({@link Overloaded}) when the player's mailbox is full. */
  private <T> Mono<T> onResident(
      String id, java.util.function.Function<Resident<S>, Mono<T>> work) {
    return onResident(id, work, options.maxPendingPerAggregate());
  }

  private <T> Mono<T> onResident(
      String id, java.util.function.Function<Resident<S>, Mono<T>> work, int maxPending) {
    return Mono.defer(
            () -> {
              Resident<S> r =
                  residents.computeIfAbsent(
                      id, k -> new Resident<>(k, type.initial(k), nanoTime.getAsLong()));
              return r.run(work, nanoTime.getAsLong(), maxPending)
                  // Retired between being marked and being removed (another thread passivating
                  // it): removed here, so the retry finds a fresh one, not the same again.
                  .doOnError(Resident.Retired.class, e -> residents.remove(id, r))
                  .doFinally(s -> forgetIfMissing(r));
            })
        .retryWhen(Retry.max(3).filter(Resident.Retired.class::isInstance))
        .doOnError(meters::countShed);
  }

  /**
   * A player that does not exist is not kept in memory: requests for unknown ids (typos, probes,
   * players seated by matchmaking that have no game state here) must not fill the heap.
   */
  private void forgetIfMissing(Resident<S> r) {
    if (r.version == 0 && r.retireIfIdle(nanoTime.getAsLong())) {
      residents.remove(r.id, r);
    }
  }

  private Mono<CommandResult<S, E>> execute(
      Resident<S> r, C command, Instant at, IdempotencyKey key) {
    return unlessHeld(r).then(Mono.defer(() -> run(r, command, at, key)));
  }

  /**
   * A held player whose transaction is stored already (its commit message not here yet: a round
   * trip to the coordinator, slow under load) is committed by reading its journal, so the command
   * that found it held need not wait for that message (nor be refused and sent again: the seats'
   * follower leaving players of a rated game did so for every player, minutes behind under load).
   * Reads do the same (see {@link #catchUp}). Still held afterwards (the transaction is not
   * stored): {@link Held}.
   */
  private Mono<Void> unlessHeld(Resident<S> r) {
    if (!holds.held(r)) {
      return Mono.empty();
    }
    return catchUp(r)
        // A read that fails changes nothing: the player is still held, and is refused as such.
        .onErrorResume(
            e -> holds.held(r),
            e -> {
              log.debug("journal of held {} not read; refused as held", r.id, e);
              return Mono.empty();
            })
        .then(
            Mono.defer(
                () -> holds.held(r) ? Mono.error(new Held(r.id, holds.holder(r))) : Mono.empty()));
  }

  private Mono<CommandResult<S, E>> run(Resident<S> r, C command, Instant at, IdempotencyKey key) {
    return ensureLoaded(r)
        .then(Mono.defer(() -> keyed(r, command, at, key, true)))
        .doOnSuccess(x -> meters.accepted.increment())
        .doOnError(meters::commandFailed);
  }

  /** A keyed command looks its key up first: found, the command already happened. */
  private Mono<CommandResult<S, E>> keyed(
      Resident<S> r, C command, Instant at, IdempotencyKey key, boolean mayRetry) {
    if (key == null) {
      return attempt(r, command, at, null, mayRetry);
    }
    return store
        .findKey(r.id, key.value())
        .flatMap(found -> repeat(r, key, found))
        .switchIfEmpty(Mono.defer(() -> attempt(r, command, at, key, mayRetry)));
  }

  private Mono<CommandResult<S, E>> repeat(Resident<S> r, IdempotencyKey key, KeyRecord found) {
    if (!found.fingerprint().equals(key.fingerprint())) {
      return Mono.error(new KeyReused(r.id, key.value()));
    }
    return catchUp(r)
        .then(
            store
                .readStream(r.id, found.firstSeq() - 1)
                .takeWhile(e -> e.seq() <= found.lastSeq())
                .map(e -> type.decode(e.type(), e.payload()))
                .collectList())
        .map(events -> new CommandResult<>(r.state, r.version, events, true));
  }

  private Mono<CommandResult<S, E>> attempt(
      Resident<S> r, C command, Instant at, IdempotencyKey key, boolean mayRetry) {
    List<E> events;
    try {
      events = type.decide(command, r.state);
    } catch (RuntimeException rejection) {
      if (!(rejection instanceof Rejection) || !mayRetry) {
        return Mono.error(rejection);
      }
      // Refused by a copy that may be stale (another instance wrote meanwhile): catch up and
      // decide again if anything changed, so a stale copy never wrongly refuses.
      long before = r.version;
      return catchUp(r)
          .then(
              Mono.defer(
                  () ->
                      r.version == before
                          ? Mono.<CommandResult<S, E>>error(rejection)
                          : keyed(r, command, at, key, false)));
    }
    if (events.isEmpty()) {
      if (!mayRetry) {
        return Mono.just(result(r, events));
      }
      // "Already done" from a copy that may be stale (leaving a room another instance seated the
      // player in): catch up and decide again if anything changed, so a stale copy never
      // acknowledges what it did not check.
      long before = r.version;
      return catchUp(r)
          .then(
              Mono.defer(
                  () ->
                      r.version == before
                          ? Mono.just(result(r, events))
                          : keyed(r, command, at, key, false)));
    }
    AppendRequest request =
        new AppendRequest(
            type.name(),
            r.id,
            r.version,
            events.stream().map(type::encode).toList(),
            at,
            Optional.ofNullable(key));
    long started = nanoTime.getAsLong();
    return store
        .append(request)
        // Only this append's own ambiguous failure is looked up (not a retry's, not commit's).
        .onErrorResume(
            // StoreBusy: refused before it left the queue, so certainly not written.
            e ->
                !(e instanceof ConcurrencyConflict)
                    && !(e instanceof Rejection)
                    && !(e instanceof StoreBusy),
            e -> landed(r, request, e))
        .doOnNext(
            a -> meters.appendLatency.record(nanoTime.getAsLong() - started, TimeUnit.NANOSECONDS))
        .map(appended -> commit(r, events, appended.version(), at))
        .onErrorResume(
            ConcurrencyConflict.class,
            conflict -> {
              if (!mayRetry) {
                r.loaded = false; // our copy is stale: the next command reloads
                return Mono.error(conflict);
              }
              log.debug("conflict on {}: reloading and retrying once", r.id);
              r.loaded = false;
              // Keyed: the conflict may be the key itself (a retry that raced its original).
              return ensureLoaded(r).then(Mono.defer(() -> keyed(r, command, at, key, false)));
            })
        .doOnError(
            e -> {
              if (!(e instanceof ConcurrencyConflict) && !(e instanceof StoreBusy)) {
                // The append may or may not have landed: reload before the next command.
                r.loaded = false;
              }
            });
  }

  /**
   * An append failed in a way that does not say whether it was written (the connection was lost
   * after COMMIT, say): look it up instead of guessing. Once any append still running on the stream
   * has finished, our events at our versions mean it landed (answered as a success, once); nothing
   * after our expected version means it did not (the failure stands); other events mean another
   * writer took the version (a conflict: reloaded and decided again, like any conflict). Events
   * carry no id, so an identical write by another instance at the same version would pass for ours;
   * a keyed command is exact: its key is looked up where its events would be.
   */
  private Mono<Appended> landed(Resident<S> r, AppendRequest request, Throwable cause) {
    if (request.key().isEmpty()) {
      return byEvents(r, request, cause, true);
    }
    // Keyed: our key where our events would be is the proof; identical events under another key
    // (another instance's same purchase, the same grant) are another writer's, not ours. Taken
    // for ours, the command was answered done while it never landed, and its key was never stored.
    return store
        .findKeyAfterFailure(r.id, request.key().get().value())
        .onErrorMap(
            lookupFailed -> {
              cause.addSuppressed(lookupFailed);
              return cause;
            })
        // Our key with another request's fingerprint is another writer's (a client that reused
        // its key on another instance): not ours, or our copy would apply events never stored.
        .map(
            found ->
                found.firstSeq() == request.expectedVersion() + 1
                    && found.fingerprint().equals(request.key().get().fingerprint()))
        .defaultIfEmpty(false)
        .flatMap(
            ours -> {
              if (ours) {
                log.info(
                    "append to {} landed although its reply was lost: {}", r.id, cause.toString());
                return Mono.just(new Appended(r.id, request.newVersion()));
              }
              return byEvents(r, request, cause, false);
            });
  }

  /**
   * The events after our expected version: none, the failure stands; ours (when {@code
   * sameIsOurs}), landed; anything else, another writer took the version.
   */
  private Mono<Appended> byEvents(
      Resident<S> r, AppendRequest request, Throwable cause, boolean sameIsOurs) {
    return store
        .readSettled(r.id, request.expectedVersion())
        .take(request.events().size())
        .collectList()
        .onErrorMap(
            lookupFailed -> {
              cause.addSuppressed(lookupFailed);
              return cause;
            })
        .flatMap(
            stored -> {
              if (stored.isEmpty()) {
                return Mono.error(cause);
              }
              if (sameIsOurs && same(stored, request.events())) {
                log.info(
                    "append to {} landed although its reply was lost: {}", r.id, cause.toString());
                return Mono.just(new Appended(r.id, request.newVersion()));
              }
              return Mono.error(new ConcurrencyConflict(r.id, request.expectedVersion()));
            });
  }

  private static boolean same(List<StoredEvent> stored, List<EventData> ours) {
    if (stored.size() != ours.size()) {
      return false;
    }
    for (int i = 0; i < ours.size(); i++) {
      if (!stored.get(i).type().equals(ours.get(i).type())
          || !java.util.Arrays.equals(stored.get(i).payload(), ours.get(i).payload())) {
        return false;
      }
    }
    return true;
  }

  // --- two-phase commit: the participant side

  /**
   * Prepare: decides the command on the CURRENT state (caught up with the journal) and holds the
   * aggregate for {@code holdFor}. The same transaction preparing again gets the same answer.
   * Another command or transaction meanwhile is refused with {@link Held}, unless the journal shows
   * the holding transaction stored (then it is committed first, see unlessHeld). A hold that lapses
   * without a decision is dropped and the aggregate reloaded, so whatever the coordinator did
   * (stored or not) is what the next command sees.
   */
  public Mono<Prepared<E>> prepare(String txId, String id, C command, Duration holdFor) {
    return onResident(
        id,
        r -> {
          Prepared<E> current = holds.heldBy(r, txId);
          if (current != null) {
            return Mono.just(current);
          }
          // Then the player is loaded if needed, else its stored version is checked (one query
          // for the checks that arrive together) and only newer events are read (a hold that
          // lapsed just now, in held(), left the copy to be read again).
          return unlessHeld(r)
              .then(Mono.defer(() -> current(r, false)))
              .then(
                  Mono.fromCallable(
                      () -> {
                        List<E> events = type.decide(command, r.state);
                        Prepared<E> prepared = new Prepared<>(txId, id, r.version, events);
                        holds.take(r, prepared, holdFor);
                        return prepared;
                      }));
        });
  }

  /**
   * Commit: the coordinator stored every participant's events in one transaction; apply what the
   * JOURNAL holds after our version, not the prepared events from memory (a commit that arrives
   * without a store, from a bug or a caller that should not be calling, then changes nothing), and
   * release the hold. (The variant with a stored version, below, trusts its caller's word instead:
   * only the coordinator after its own append gives it, over the internal endpoints that need
   * {@code tx.participate}; a false word would show events the journal lacks until the next write
   * conflicts and reloads the copy.) It is a catch-up: exactly the held events are committed with
   * their after-commit work, anything else is applied without it, and a late commit of an earlier
   * transaction commits the one holding the player now if that one was stored. Idempotent: a second
   * commit finds nothing newer.
   */
  public Mono<CommandResult<S, E>> commitPrepared(String txId, String id) {
    return commitPrepared(txId, id, ReadAhead.none());
  }

  /**
   * The newer events of these aggregates' copies, read in one query for the commits that follow
   * ({@link #commitPrepared(String, String, ReadAhead)}): a transaction's participant commits all
   * its players at once, and one query instead of one per player is what a commit costs the
   * database; the read-aheads of commits that arrive together share that query ({@link ReadAheads},
   * started after each of them asked, so it finds every transaction stored before its commit was
   * sent); one refused (too many waiting, or waited too long) runs its own query. Aggregates not in
   * memory are left to their own read; a failed read leaves them all.
   */
  public Mono<ReadAhead> readAhead(java.util.Collection<String> ids) {
    Map<String, Long> from = new java.util.LinkedHashMap<>();
    for (String id : ids) {
      Resident<S> r = residents.get(id);
      // Read outside its turn, so only a hint: the commit checks it against the copy then.
      if (r != null && r.loaded) {
        from.put(id, r.version);
      }
    }
    if (from.isEmpty()) {
      return Mono.just(ReadAhead.none());
    }
    return readAheads
        .read(Map.copyOf(from))
        .onErrorResume(
            e -> {
              log.debug("read ahead of {} failed; each commit reads its own", from.keySet(), e);
              return Mono.just(ReadAhead.none());
            });
  }

  /** The same, with the newer events read ahead for several aggregates at once. */
  public Mono<CommandResult<S, E>> commitPrepared(String txId, String id, ReadAhead ahead) {
    return commitPrepared(txId, id, ahead, null, null);
  }

  /**
   * The same, with the coordinator's word that its own append (not a lookup after a failure, not an
   * earlier run of its key) stored this transaction's vote at {@code storedAt}: a copy still held
   * by exactly that vote and still at that version applies the vote's events, with their
   * after-commit work, without reading them back (they are the journal's next events: the append
   * was fenced by that version). Otherwise, or without it ({@code null}), from the journal.
   *
   * @param at when it was stored (a snapshot due now is stamped with it)
   */
  public Mono<CommandResult<S, E>> commitPrepared(
      String txId, String id, ReadAhead ahead, Long storedAt, Instant at) {
    // Never refused for a full mailbox: that must not keep a transaction's decision from its
    // player. (Reloading a copy that is not loaded may be refused under overload: the hold stays
    // until the next read, command or commit reloads the copy, or until it lapses.)
    return onResident(
        id,
        r -> {
          Prepared<E> vote = storedAt == null ? null : holds.heldBy(r, txId);
          if (vote != null
              && r.loaded
              && !vote.events().isEmpty()
              && vote.expectedVersion() == storedAt
              && r.version == storedAt) {
            commit(r, vote.events(), storedAt + vote.events().size(), at);
            holds.release(r, txId);
            meters.committedUnread.increment();
            return Mono.just(result(r, List.of()));
          }
          return commitFromJournal(r, txId, ahead);
        },
        Integer.MAX_VALUE);
  }

  private Mono<CommandResult<S, E>> commitFromJournal(Resident<S> r, String txId, ReadAhead ahead) {
    return catchUp(r, ahead)
        // Only once the journal was read: a commit whose read failed keeps the hold, so
        // the commit sent again, or the next read or command, applies the held events
        // with their after-commit work (released here, a later read replayed them
        // without it: the players' notifications and leaderboards were lost).
        // Released then: nothing of ours was stored, or it was applied above.
        .doOnSuccess(x -> holds.release(r, txId))
        .doOnError(e -> holds.releaseIfNothingToWrite(r, txId))
        .then(Mono.fromSupplier(() -> result(r, List.of())));
  }

  /** Abort: release the hold if this transaction has it; nothing was stored. Idempotent. */
  public Mono<Void> abortPrepared(String txId, String id) {
    return onResident(
        id,
        r -> {
          holds.abort(r, txId);
          return Mono.empty();
        },
        Integer.MAX_VALUE);
  }

  private CommandResult<S, E> commit(Resident<S> r, List<E> events, long version, Instant at) {
    long before = r.version;
    S state = r.state;
    for (E e : events) {
      state = type.evolve(state, e);
    }
    r.state = state;
    r.version = version;
    CommandResult<S, E> result = result(r, events);
    if (snapshots.due(before, version)) {
      writeSnapshot(r.id, state, version, at);
    }
    String id = r.id;
    S committed = state;
    for (AfterCommit<S, E> hook : afterCommit) {
      Mono.defer(() -> hook.committed(id, committed, version, events))
          .subscribe(
              done -> {},
              e ->
                  log.warn(
                      "after-commit work of {} failed for {}@{}",
                      hook.getClass().getSimpleName(),
                      id,
                      version,
                      e));
    }
    return result;
  }

  private void writeSnapshot(String id, S state, long version, Instant at) {
    Snapshot snapshot =
        new Snapshot(type.name(), id, version, type.snapshotType(), type.snapshot(state), at);
    // Off the command's path: the reply does not wait for it, and a lost snapshot costs only
    // a longer replay.
    store
        .saveSnapshot(snapshot)
        .subscribe(
            v -> {},
            e -> log.warn("snapshot of {}@{} failed", id, version, e),
            meters.snapshotWrites::increment);
  }

  private Mono<Void> ensureLoaded(Resident<S> r) {
    // A stream at version 0 does not exist yet; another instance (or a consumer) may create it
    // at any moment, so "does not exist" is never trusted from memory.
    if (r.loaded && r.version > 0) {
      return Mono.empty();
    }
    return recoveries
        .limit(store.load(r.id).flatMap(this::readable))
        .doOnNext(
            loaded -> {
              r.state = recover(r.id, loaded);
              r.version = loaded.version();
              r.loaded = true;
              meters.recovered.increment();
              // Reloaded past the held version: the holding transaction was stored (its
              // after-commit work is lost with the copy) or can no longer be.
              holds.releaseIfMoved(r);
            })
        .then();
  }

  /** Applies the events committed after the resident's version; reloads if there is a gap. */
  private Mono<Void> catchUp(Resident<S> r) {
    if (!r.loaded) {
      return ensureLoaded(r);
    }
    long from = r.version;
    return store.readStream(r.id, from).collectList().flatMap(newer -> caughtUp(r, from, newer));
  }

  /**
   * The same from events read ahead, when they reach back to this copy's version (read from it or
   * from before it): what a read made then would have found, and anything stored since is the next
   * read's, as it is for a read of its own. Otherwise a read of its own.
   */
  private Mono<Void> catchUp(Resident<S> r, ReadAhead ahead) {
    java.util.OptionalLong readFrom = ahead.from(r.id);
    if (!r.loaded || readFrom.isEmpty() || readFrom.getAsLong() > r.version) {
      return catchUp(r);
    }
    long from = r.version;
    List<StoredEvent> newer = ahead.after(r.id, from);
    if (newer.isEmpty() && holds.held(r)) {
      // Nothing stored for a held copy, as read then: read now (a read ahead of the store, from a
      // caller that should not commit yet, would otherwise release the hold without its events).
      return catchUp(r);
    }
    return caughtUp(r, from, newer);
  }

  /** Applies a copy's newer events ({@code newer}: the journal's events after {@code from}). */
  private Mono<Void> caughtUp(Resident<S> r, long from, List<StoredEvent> newer) {
    return Mono.defer(
        () -> {
          if (newer.isEmpty()) {
            return Mono.empty();
          }
          if (newer.get(0).seq() != from + 1) {
            r.loaded = false; // retention removed what we missed: load the snapshot
            return ensureLoaded(r);
          }
          List<E> events = newer.stream().map(e -> type.decode(e.type(), e.payload())).toList();
          long version = newer.get(newer.size() - 1).seq();
          int n = holds.storedAhead(r, from, events);
          if (n > 0) {
            // The held transaction's events first: it was stored and this read came before
            // its commit message. Committed here, with its after-commit work (notifications,
            // leaderboards), which the late commit would no longer find to do; what another
            // writer appended after it is replayed (its work is its own instance's).
            StoredEvent last = newer.get(n - 1);
            commit(r, events.subList(0, n), last.seq(), last.recordedAt());
            events = events.subList(n, events.size());
          }
          r.state = replay(r.state, events);
          r.version = version;
          holds.releaseIfMoved(r); // its commit message is late or lost
          return Mono.empty();
        });
  }

  private S replay(S from, List<E> events) {
    S state = from;
    for (E e : events) {
      state = type.evolve(state, e);
    }
    return state;
  }

  /**
   * A snapshot of a type this code does not write (another version's, before or after an
   * incompatible change of the state) is not decoded as ours: the stream is replayed from its first
   * event instead, the events being the truth and a snapshot only a shortcut. If retention already
   * removed the first events, the player cannot be recovered by this version: refused loudly, never
   * made up from a misread snapshot.
   */
  private Mono<LoadedStream> readable(LoadedStream loaded) {
    Optional<Snapshot> snapshot = loaded.snapshot();
    if (snapshot.isEmpty() || snapshot.get().type().equals(type.snapshotType())) {
      return Mono.just(loaded);
    }
    String id = loaded.aggregateId();
    log.warn(
        "snapshot of {}@{} is a {}, not a {}: replaying its events instead",
        id,
        snapshot.get().version(),
        snapshot.get().type(),
        type.snapshotType());
    return store
        .readStream(id)
        .collectList()
        .map(
            all -> {
              if (all.isEmpty() || all.get(0).seq() != 1) {
                throw new UnreadableSnapshot(
                    id
                        + " has only a snapshot of type "
                        + snapshot.get().type()
                        + " for its first events: this version reads "
                        + type.snapshotType());
              }
              long version = all.isEmpty() ? loaded.version() : all.get(all.size() - 1).seq();
              return new LoadedStream(id, Optional.empty(), all, version);
            });
  }

  private S recover(String id, LoadedStream loaded) {
    S state =
        loaded.snapshot().map(s -> type.restore(id, s.payload())).orElseGet(() -> type.initial(id));
    for (StoredEvent e : loaded.events()) {
      state = type.evolve(state, type.decode(e.type(), e.payload()));
    }
    return state;
  }

  private CommandResult<S, E> result(Resident<S> r, List<E> events) {
    return new CommandResult<>(r.state, r.version, events);
  }

  /**
   * Passivates idle residents: those unused for the idle timeout, then, above the maximum count,
   * the least recently used idle ones.
   *
   * @return how many were passivated
   */
  public int passivate() {
    long now = nanoTime.getAsLong();
    long idleBefore = now - options.idleTimeout().toNanos();
    int removed = 0;
    for (Resident<S> r : residents.values()) {
      if (r.retireIfIdle(idleBefore) && residents.remove(r.id, r)) {
        removed++;
      }
    }
    int excess = residents.size() - options.maxResident();
    if (excess > 0) {
      // Each one's last use read once: sorting on the live field, which other threads move
      // meanwhile, can break the sort's contract (an exception, and no eviction).
      record Aged<T>(T resident, long lastUsed) {}
      List<Aged<Resident<S>>> byAge = new ArrayList<>(residents.size());
      for (Resident<S> r : residents.values()) {
        byAge.add(new Aged<>(r, r.lastUsedNanos()));
      }
      byAge.sort(Comparator.comparingLong(Aged::lastUsed));
      for (Aged<Resident<S>> aged : byAge) {
        Resident<S> r = aged.resident();
        if (excess <= 0) {
          break;
        }
        if (r.retireIfIdle(now) && residents.remove(r.id, r)) {
          removed++;
          excess--;
        }
      }
    }
    return removed;
  }

  /** Runs {@link #passivate} every sweep interval until disposed. */
  public Disposable startPassivation() {
    return Flux.interval(options.sweepInterval())
        .onBackpressureDrop()
        .subscribe(
            tick -> {
              // A failed sweep is logged and the next one runs: thrown from here, it ended the
              // subscription, and no resident was ever passivated again (memory without bound).
              try {
                int n = passivate();
                if (n > 0) {
                  log.debug("passivated {} {} aggregates", n, type.name());
                }
              } catch (RuntimeException e) {
                log.warn("passivating {} aggregates failed; the next sweep runs", type.name(), e);
              }
            });
  }
}
