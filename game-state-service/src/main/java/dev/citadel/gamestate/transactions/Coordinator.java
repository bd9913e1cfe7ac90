package dev.citadel.gamestate.transactions;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.player.PlayerRejected;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
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

  /**
   * Runs the steps as one transaction; completes with the transaction id once committed. Refused
   * because a player is held by another transaction, it tries again a few times after a short
   * random pause (a fresh transaction id each time), so two transactions that meet on the same
   * players in opposite order both finish.
   */
  public Mono<String> execute(List<Step> steps) {
    return Mono.defer(() -> execute(UUID.randomUUID().toString(), steps))
        .retryWhen(
            reactor.util.retry.Retry.backoff(BUSY_RETRIES, Duration.ofMillis(5))
                .jitter(1.0)
                .filter(e -> e instanceof Refused r && r.getCause() instanceof Held)
                .onRetryExhaustedThrow((spec, signal) -> signal.failure()));
  }

  Mono<String> execute(String txId, List<Step> steps) {
    long started = System.nanoTime();
    return Flux.fromIterable(steps)
        .flatMap(
            s ->
                ownerOf
                    .apply(s.playerId())
                    .prepare(txId, s.playerId(), s.command(), s.args())
                    .timeout(settings.prepareTimeout()))
        .collectList()
        .doOnSuccess(v -> prepareLatency.record(System.nanoTime() - started, TimeUnit.NANOSECONDS))
        .flatMap(votes -> store(txId, votes))
        .flatMap(votes -> commitAll(txId, votes))
        .doOnSuccess(id -> committed.increment())
        .onErrorResume(
            e ->
                abortAll(txId, steps)
                    .then(
                        Mono.error(
                            () -> {
                              aborted.increment();
                              return refused(e);
                            })));
  }

  private Mono<List<Vote>> store(String txId, List<Vote> votes) {
    List<AppendRequest> appends = new ArrayList<>();
    for (Vote v : votes) {
      if (!v.events().isEmpty()) {
        // The transaction id is each stream's idempotency key: stored with the events, it makes a
        // store that may have landed (an ambiguous failure) something to look up.
        appends.add(
            new AppendRequest(TYPE, v.playerId(), v.expectedVersion(), v.events(), clock.instant())
                .withKey(IdempotencyKey.of("tx:" + txId, txId)));
      }
    }
    return store.appendAtomically(appends).thenReturn(votes);
  }

  private Mono<String> commitAll(String txId, List<Vote> votes) {
    long stored = System.nanoTime();
    // Stored means committed: a participant that misses this message reloads when its hold lapses.
    return Flux.fromIterable(votes)
        .flatMap(
            v ->
                ownerOf
                    .apply(v.playerId())
                    .commit(txId, v.playerId())
                    .timeout(settings.commitTimeout())
                    .onErrorResume(
                        e -> {
                          log.warn(
                              "commit of {} at {} not confirmed: its hold will lapse",
                              txId,
                              v.playerId(),
                              e);
                          return Mono.empty();
                        }))
        .then(
            Mono.fromSupplier(
                () -> {
                  commitLatency.record(System.nanoTime() - stored, TimeUnit.NANOSECONDS);
                  return txId;
                }));
  }

  private Mono<Void> abortAll(String txId, List<Step> steps) {
    return Flux.fromIterable(steps)
        .flatMap(
            s ->
                ownerOf
                    .apply(s.playerId())
                    .abort(txId, s.playerId())
                    .timeout(settings.commitTimeout())
                    .onErrorResume(e -> Mono.empty())) // its hold lapses on its own
        .then();
  }

  private static Refused refused(Throwable e) {
    if (e instanceof Refused r) {
      return r;
    }
    if (e instanceof dev.citadel.gamestate.api.ApiException a) {
      return new Refused(a.status(), a.getMessage(), a);
    }
    if (e instanceof PlayerRejected p) {
      return new Refused(dev.citadel.gamestate.api.ApiErrors.status(p), p.getMessage(), p);
    }
    if (e instanceof Held || e instanceof ConcurrencyConflict) {
      return new Refused(HttpStatus.CONFLICT, "a player is busy; try again: " + e.getMessage(), e);
    }
    if (e instanceof TimeoutException) {
      return new Refused(HttpStatus.SERVICE_UNAVAILABLE, "a participant did not answer in time", e);
    }
    log.warn("transaction failed", e);
    return new Refused(HttpStatus.SERVICE_UNAVAILABLE, "transaction aborted: " + e.getMessage(), e);
  }
}
