package dev.citadel.messaging.kafka;

import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * When a consumer that failed starts again: after {@link #FIRST}, doubling on each failure in a row
 * up to {@link #MAX}, and from {@link #FIRST} again once a run lasted {@link #HEALTHY} (until
 * 2026-12-07 the back-off never reset: a service whose consumer had failed a few times over days
 * waited the whole 10 s on every later restart). One instance per consumer: it keeps the run's
 * start ({@link #started}) and the failures in a row. Each wait is spread by up to half either way
 * (as reactor's {@code Retry.backoff} did), so the consumers of many replicas that failed together
 * (a broker outage) do not all start again at the same moment.
 */
final class ConsumerRestarts {
  private static final Logger log = LoggerFactory.getLogger(ConsumerRestarts.class);
  static final Duration FIRST = Duration.ofMillis(500);
  static final Duration MAX = Duration.ofSeconds(10);
  static final Duration HEALTHY = Duration.ofSeconds(60);

  private final String groupId;
  private final LongSupplier nanoTime;
  private final java.util.function.DoubleSupplier random;
  private volatile long started;
  private int inARow; // only in the retry's signals, one at a time

  /**
   * @param random uniform in [0, 1): the spread of each wait (0.5: none)
   */
  ConsumerRestarts(
      String groupId, LongSupplier nanoTime, java.util.function.DoubleSupplier random) {
    this.groupId = groupId;
    this.nanoTime = nanoTime;
    this.random = random;
    this.started = nanoTime.getAsLong();
  }

  /** A run (a subscription to the receiver) starts now. */
  void started() {
    started = nanoTime.getAsLong();
  }

  /** How long to wait before the next run, after the current one failed now. */
  Duration failed() {
    inARow = inARow(Duration.ofNanos(nanoTime.getAsLong() - started), inARow);
    return spread(wait(inARow), random.getAsDouble());
  }

  /**
   * {@code wait} times 0.5 to 1.5 ({@code r} in [0, 1)), kept within {@link #FIRST} and {@link
   * #MAX} as reactor's back-off kept it.
   */
  static Duration spread(Duration wait, double r) {
    long nanos = (long) (wait.toNanos() * (0.5 + r));
    return Duration.ofNanos(Math.max(FIRST.toNanos(), Math.min(MAX.toNanos(), nanos)));
  }

  /** Failures in a row, counting this one: 1 after a run that lasted {@code ranFor >= HEALTHY}. */
  static int inARow(Duration ranFor, int before) {
    return ranFor.compareTo(HEALTHY) >= 0 ? 1 : before + 1;
  }

  /** The wait after {@code inARow} failures in a row: 500 ms, 1 s, 2 s, ... at most 10 s. */
  static Duration wait(int inARow) {
    int doublings = Math.min(inARow - 1, 30);
    long millis = FIRST.toMillis() << doublings;
    return millis >= MAX.toMillis() ? MAX : Duration.ofMillis(millis);
  }

  /** The retry of the consumer's flux: for ever, with {@link #failed}'s wait. */
  Retry retry() {
    return Retry.from(
        signals ->
            signals.concatMap(
                s -> {
                  Duration wait = failed();
                  log.warn(
                      "consumer {} restarts in {} ms ({} failures in a row): {}",
                      groupId,
                      wait.toMillis(),
                      inARow,
                      String.valueOf(s.failure()));
                  return Mono.delay(wait).thenReturn(s);
                }));
  }
}
