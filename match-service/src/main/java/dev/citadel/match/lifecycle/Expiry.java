package dev.citadel.match.lifecycle;

import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.queue.Queues;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Matches whose room was not confirmed in time (PENDING past the deadline): re-sent once, then
 * game-state is asked to cancel them, again every deadline until it answers. Never requeues anyone
 * itself: that waits for game-state's answer ({@link Lifecycle#onRejected}).
 */
public final class Expiry {
  private static final Logger log = LoggerFactory.getLogger(Expiry.class);

  private final Queues queues;
  private final HandOff handOff;
  private final Clock clock;
  private final Duration roomTimeout;
  private final Counter resent;
  private final Counter expired;

  public Expiry(
      Queues queues, HandOff handOff, Clock clock, Duration roomTimeout, MeterRegistry meters) {
    this.queues = queues;
    this.handOff = handOff;
    this.clock = clock;
    this.roomTimeout = roomTimeout;
    this.resent = Counter.builder("citadel_matches_resent").register(meters);
    this.expired = Counter.builder("citadel_matches_expired").register(meters);
  }

  /**
   * Re-sends overdue matches once (attempt 2), then asks game-state to cancel them (attempt 3 and
   * on, one request per deadline until it answers). The players stay matched meanwhile: they are
   * requeued only when game-state answers that the cancel won ({@link Lifecycle#onRejected}).
   */
  public Mono<Integer> expire(String queue) {
    return queues
        .overdue(queue, clock.millis(), 1000)
        .concatMap(
            p -> {
              // Now for each: a send before it may have waited (up to the producer's timeout).
              long now = clock.millis();
              Mono<Integer> call =
                  Mono.defer(
                      () ->
                          queues.retry(
                              queue, p.matchId(), p.attempt(), now, now + roomTimeout.toMillis()));
              // A call that failed (timed out) may have run: asked again with the same arguments,
              // the script answers what it did (or does it now), instead of the re-send being
              // skipped and the match cancelled at its next deadline.
              Mono<Integer> moved = call.onErrorResume(e -> call);
              if (p.attempt() < 2) {
                return moved
                    .filter(attempt -> attempt == 2)
                    .flatMap(
                        attempt -> {
                          resent.increment();
                          return handOff.send(queue, p.matchId(), p.players(), p.createdAtMs(), 2);
                        })
                    .thenReturn(1);
              }
              return moved
                  .filter(attempt -> attempt > 2)
                  .flatMap(
                      attempt -> {
                        if (attempt == 3) {
                          expired.increment();
                          log.info(
                              "match {} unanswered: asking game-state to cancel it", p.matchId());
                        }
                        return handOff.cancel(queue, p.matchId(), attempt);
                      })
                  .thenReturn(1);
            })
        .reduce(0, Integer::sum);
  }

  /** Every {@code interval}, each queue in turn; a failed tick is logged and the next one runs. */
  public Disposable start(List<String> queueNames, Duration interval) {
    return Flux.interval(interval)
        .onBackpressureDrop()
        .concatMap(
            t ->
                Flux.fromIterable(queueNames)
                    .concatMap(
                        q ->
                            expire(q)
                                .onErrorResume(
                                    e -> {
                                      // The next tick tries again; the failure is not silent.
                                      log.warn("expiry of queue {} failed: {}", q, e.toString());
                                      return Mono.just(0);
                                    })),
            1)
        .subscribe();
  }
}
