package dev.citadel.web.lifecycle;

import java.time.Duration;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.publisher.Sinks;

/**
 * Rounds every {@code interval}, one at a time (a round still running when the next is due skips
 * it), holding something it gives back at the end (a lock in Redis). Asked to stop, it starts no
 * new round, finishes the one in hand and then releases, so another replica can take over at once
 * and nothing is cut in the middle; disposed, it stops at once and only fires the release (which
 * may not get out before the process ends: the hold then lapses by its own time to live).
 */
public final class GracefulLoop implements BackgroundTasks.Graceful {
  private static final Logger log = LoggerFactory.getLogger(GracefulLoop.class);

  private final Sinks.Empty<Void> stopAsked = Sinks.empty();
  private final Sinks.Empty<Void> stopped = Sinks.empty();
  private final Disposable loop;

  private GracefulLoop(
      String name,
      Duration interval,
      Supplier<? extends Publisher<?>> round,
      Supplier<Mono<?>> release) {
    this.loop =
        Flux.interval(interval)
            .takeUntilOther(stopAsked.asMono())
            .onBackpressureDrop()
            .concatMap(tick -> round.get(), 1)
            .then(Mono.defer(release))
            .doFinally(
                signal -> {
                  if (signal != SignalType.ON_COMPLETE) {
                    release
                        .get()
                        .subscribe(
                            released -> {},
                            e -> log.warn("{} not released: {}", name, e.toString()));
                  }
                  stopped.tryEmitEmpty();
                })
            .subscribe(done -> {}, e -> log.warn("{} ended: {}", name, e.toString()));
  }

  /**
   * Starts the loop. {@code round} should not fail (a failed round ends the loop: handle its errors
   * inside); {@code release} should be idempotent (a failed graceful release is fired once more).
   */
  public static GracefulLoop start(
      String name,
      Duration interval,
      Supplier<? extends Publisher<?>> round,
      Supplier<Mono<?>> release) {
    return new GracefulLoop(name, interval, round, release);
  }

  @Override
  public Mono<Void> stopGracefully() {
    stopAsked.tryEmitEmpty();
    return stopped.asMono();
  }

  @Override
  public void dispose() {
    loop.dispose();
  }

  @Override
  public boolean isDisposed() {
    return loop.isDisposed();
  }
}
