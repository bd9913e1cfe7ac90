package dev.citadel.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GameStateInstancesTest {
  static final URI A = URI.create("http://a:8080");
  static final URI B = URI.create("http://b:8080");

  @Test
  void an_instance_is_routable_after_one_good_probe_and_dropped_after_three_bad_ones() {
    Map<URI, Integer> f = GameStateInstances.nextFailures(Map.of(), Map.of(A, true, B, false));
    assertThat(GameStateInstances.routable(f)).containsExactly(A);

    for (int i = 1; i < GameStateInstances.FAILURES_TO_DROP; i++) {
      f = GameStateInstances.nextFailures(f, Map.of(A, false, B, true));
      assertThat(GameStateInstances.routable(f)).as("after %d timeouts", i).containsExactly(A, B);
    }
    f = GameStateInstances.nextFailures(f, Map.of(A, false, B, true));
    assertThat(GameStateInstances.routable(f)).containsExactly(B);

    f = GameStateInstances.nextFailures(f, Map.of(A, true, B, true));
    assertThat(GameStateInstances.routable(f)).containsExactly(A, B);
  }

  @Test
  void an_instance_that_is_no_longer_a_candidate_is_dropped_at_once() {
    Map<URI, Integer> f = GameStateInstances.nextFailures(Map.of(), Map.of(A, true, B, true));
    f = GameStateInstances.nextFailures(f, Map.of(B, true));
    assertThat(GameStateInstances.routable(f)).containsExactly(B);
  }

  @Test
  void when_every_known_instance_fails_its_probes_all_of_them_stay_routable() {
    Map<URI, Integer> f = GameStateInstances.nextFailures(Map.of(), Map.of(A, true, B, true));
    for (int i = 0; i < GameStateInstances.FAILURES_TO_DROP; i++) {
      f = GameStateInstances.nextFailures(f, Map.of(A, false, B, false));
    }
    assertThat(GameStateInstances.routable(f)).containsExactly(A, B);
    assertThat(GameStateInstances.routable(Map.of())).as("never answered: none").isEmpty();
  }

  /**
   * A candidate list that throws (no discovery client yet) is one failed round: the probing goes
   * on. It ended the loop for good, with the healthy list frozen as it was.
   */
  @Test
  void a_candidate_list_that_throws_once_does_not_end_the_probing() throws Exception {
    java.util.concurrent.atomic.AtomicInteger calls =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.CountDownLatch again = new java.util.concurrent.CountDownLatch(1);
    GameStateInstances instances =
        new GameStateInstances(
            () -> {
              if (calls.getAndIncrement() == 0) {
                throw new IllegalStateException("no discovery client yet");
              }
              again.countDown();
              return reactor.core.publisher.Flux.empty();
            },
            null, // nothing to probe
            java.time.Duration.ofMillis(20),
            java.time.Duration.ofSeconds(1));
    reactor.core.Disposable running = instances.start();
    try {
      assertThat(again.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      running.dispose();
    }
  }
}
