package dev.citadel.gamestate.rooms;

import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.protocol.match.v1.MatchPlaced;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Games whose server never ended them (it died, or forgot): a match placed longer than the maximum
 * game length ago and still not ended is ended without a result (room freed, players back in the
 * lobby, no rating change), as {@code /end} would. Every instance may sweep: ending is idempotent.
 */
public final class GameTimeouts {
  private static final Logger log = LoggerFactory.getLogger(GameTimeouts.class);
  private static final String PLACED = MatchPlaced.getDescriptor().getFullName();
  private static final int PER_SWEEP = 500;

  private final PostgresEventStore store;
  private final MatchRooms rooms;
  private final Duration maxGameLength;
  private final Clock clock;
  private final Counter timedOut;

  public GameTimeouts(
      PostgresEventStore store,
      MatchRooms rooms,
      Duration maxGameLength,
      Clock clock,
      MeterRegistry meters) {
    this.store = store;
    this.rooms = rooms;
    this.maxGameLength = maxGameLength;
    this.clock = clock;
    this.timedOut =
        Counter.builder("citadel_matches_timed_out")
            .description("Games ended by the platform after the maximum game length")
            .register(meters);
  }

  /**
   * Ends the games that are over time; answers how many this sweep ended (not those a result, an
   * {@code /end} or another instance's sweep ended first). A match that cannot be ended now (its
   * channel contended, a failed read) is logged and left to the next sweep: the ones after it go
   * on.
   */
  public Mono<Integer> sweep() {
    return store
        .stillAtFirstEvent(
            RoomAllocator.MATCH_TYPE, PLACED, clock.instant().minus(maxGameLength), PER_SWEEP)
        .map(stream -> stream.substring(RoomAllocator.stream("").length()))
        .concatMap(
            matchId ->
                rooms
                    .end(matchId)
                    .filter(ended -> ended.isPresent() && ended.get().endedNow())
                    .doOnNext(
                        ended -> {
                          timedOut.increment();
                          log.info(
                              "match {} ended after the maximum game length ({})",
                              matchId,
                              maxGameLength);
                        })
                    .onErrorResume(
                        e -> {
                          log.warn("match {} over time not ended now; next sweep", matchId, e);
                          return Mono.empty();
                        }))
        .count()
        .map(Long::intValue);
  }

  public Disposable start(Duration interval) {
    return Flux.interval(interval)
        .onBackpressureDrop()
        .concatMap(
            t ->
                sweep()
                    .onErrorResume(
                        e -> {
                          log.warn("game timeout sweep failed; next one in {}", interval, e);
                          return Mono.just(0);
                        }),
            1)
        .subscribe();
  }
}
