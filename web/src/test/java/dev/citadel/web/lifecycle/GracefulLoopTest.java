package dev.citadel.web.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class GracefulLoopTest {

  /**
   * Asked to stop in the middle of a round, the loop lets it finish, starts no other, and only then
   * releases what it holds: a lock given back mid-round would let another replica start on what
   * this one is still doing.
   */
  @Test
  void a_stop_finishes_the_round_in_hand_then_releases() throws Exception {
    List<String> log = new CopyOnWriteArrayList<>();
    Sinks.Empty<Void> roundEnds = Sinks.empty();
    CountDownLatch inRound = new CountDownLatch(1);
    GracefulLoop loop =
        GracefulLoop.start(
            "test loop",
            Duration.ofMillis(10),
            () ->
                Mono.fromRunnable(
                        () -> {
                          log.add("round");
                          inRound.countDown();
                        })
                    .then(roundEnds.asMono()),
            () -> Mono.fromRunnable(() -> log.add("released")));
    assertThat(inRound.await(10, TimeUnit.SECONDS)).isTrue();

    CountDownLatch stopped = new CountDownLatch(1);
    loop.stopGracefully().subscribe(null, null, stopped::countDown);
    assertThat(stopped.await(100, TimeUnit.MILLISECONDS)).as("waits for the round").isFalse();
    assertThat(log).containsExactly("round");

    roundEnds.tryEmitEmpty();
    assertThat(stopped.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(log).containsExactly("round", "released");
  }

  @Test
  void a_disposed_loop_stops_at_once_and_fires_the_release() throws Exception {
    CountDownLatch inRound = new CountDownLatch(1);
    CountDownLatch released = new CountDownLatch(1);
    GracefulLoop loop =
        GracefulLoop.start(
            "test loop",
            Duration.ofMillis(10),
            () -> Mono.fromRunnable(inRound::countDown).then(Mono.never()),
            () -> Mono.fromRunnable(released::countDown));
    assertThat(inRound.await(10, TimeUnit.SECONDS)).isTrue();

    loop.dispose();
    assertThat(released.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(loop.isDisposed()).isTrue();
  }
}
