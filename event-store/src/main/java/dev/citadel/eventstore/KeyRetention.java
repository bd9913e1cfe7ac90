package dev.citadel.eventstore;

import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Forgets idempotency keys older than {@code keep}, every {@code interval}: a retry after that long
 * is a new request. Keep them longer than any caller retries (a game server resending a reward, a
 * client resending a command). A key's age counts from when the journal stored it (the database's
 * time), not from the request's own time: a request applied late keeps its key as long as any.
 */
public final class KeyRetention {
  private static final Logger log = LoggerFactory.getLogger(KeyRetention.class);

  private KeyRetention() {}

  public static Disposable start(EventStore store, Duration interval, Duration keep, Clock clock) {
    return Flux.interval(interval)
        .onBackpressureDrop()
        .concatMap(
            tick ->
                store
                    .forgetKeys(clock.instant().minus(keep))
                    .doOnNext(n -> log.debug("forgot {} idempotency keys", n))
                    .onErrorResume(
                        e -> {
                          log.warn("idempotency keys not swept: {}", e.toString());
                          return Mono.empty();
                        }),
            1)
        .subscribe();
  }
}
