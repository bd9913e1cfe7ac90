package dev.citadel.gamestate.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

class VersionChecksTest {

  /** A lookup the test answers by hand: each call is recorded with its ids and its reply. */
  static final class Lookups {
    final List<List<String>> ids = new CopyOnWriteArrayList<>();
    final List<Sinks.One<Map<String, Long>>> replies = new CopyOnWriteArrayList<>();

    Mono<Map<String, Long>> lookup(Collection<String> asked) {
      ids.add(List.copyOf(asked));
      Sinks.One<Map<String, Long>> reply = Sinks.one();
      replies.add(reply);
      return reply.asMono();
    }

    void answer(int call, Map<String, Long> versions) {
      replies.get(call).tryEmitValue(versions).orThrow();
    }
  }

  @Test
  void callers_that_arrive_during_a_lookup_share_the_next_one() {
    Lookups lookups = new Lookups();
    VersionChecks checks = new VersionChecks(lookups::lookup, 100, 1, 1_000);
    List<Long> answers = new CopyOnWriteArrayList<>();

    checks.version("a").subscribe(answers::add);
    assertThat(lookups.ids).containsExactly(List.of("a")); // alone: asked at once
    checks.version("b").subscribe(answers::add);
    checks.version("c").subscribe(answers::add);
    checks.version("b").subscribe(answers::add);
    assertThat(lookups.ids).hasSize(1); // the slot is taken: they wait

    lookups.answer(0, Map.of("a", 4L));
    // b and c asked after the first lookup started, so it cannot answer them: one lookup for all.
    assertThat(lookups.ids).containsExactly(List.of("a"), List.of("b", "c"));
    assertThat(answers).containsExactly(4L);
    lookups.answer(1, Map.of("b", 2L)); // c was never written
    assertThat(answers).containsExactly(4L, 2L, 0L, 2L);
  }

  @Test
  void batches_are_bounded_and_lookups_run_side_by_side_up_to_the_bound() {
    Lookups lookups = new Lookups();
    VersionChecks checks = new VersionChecks(lookups::lookup, 2, 2, 1_000);
    List<Long> answers = new CopyOnWriteArrayList<>();
    for (String id : List.of("a", "b", "c", "d", "e", "f")) {
      checks.version(id).subscribe(answers::add);
    }
    assertThat(lookups.ids).containsExactly(List.of("a"), List.of("b")); // two slots
    lookups.answer(1, Map.of("b", 1L));
    assertThat(lookups.ids).hasSize(3).last().isEqualTo(List.of("c", "d")); // at most two a call
    lookups.answer(0, Map.of("a", 1L));
    lookups.answer(2, Map.of("c", 1L, "d", 1L));
    lookups.answer(3, Map.of("e", 1L, "f", 1L));
    assertThat(lookups.ids).hasSize(4);
    assertThat(answers).hasSize(6).containsOnly(1L);
  }

  /**
   * A failed lookup (a database down, or stuck past the caller's timeout) fails the callers waiting
   * behind it too, at once: otherwise each would wait for a lookup of its own to fail in turn,
   * holding its player's turn all the while. The next caller is asked again.
   */
  @Test
  void a_failed_lookup_fails_its_callers_and_those_waiting_and_the_next_caller_is_asked_again() {
    Lookups lookups = new Lookups();
    VersionChecks checks = new VersionChecks(lookups::lookup, 100, 1, 1_000);
    List<Throwable> errors = new ArrayList<>();
    List<Long> answers = new ArrayList<>();
    checks.version("a").subscribe(answers::add, errors::add);
    checks.version("b").subscribe(answers::add, errors::add);
    lookups.replies.get(0).tryEmitError(new IllegalStateException("database down")).orThrow();
    assertThat(errors).hasSize(2).extracting(Throwable::getMessage).containsOnly("database down");
    assertThat(lookups.ids).containsExactly(List.of("a")); // b was never asked for

    checks.version("c").subscribe(answers::add, errors::add);
    assertThat(lookups.ids).last().isEqualTo(List.of("c"));
    lookups.answer(1, Map.of("c", 3L));
    assertThat(answers).containsExactly(3L);
  }

  @Test
  void past_the_bound_on_waiting_callers_a_caller_is_refused_at_once() {
    Lookups lookups = new Lookups();
    VersionChecks checks = new VersionChecks(lookups::lookup, 100, 1, 2);
    checks.version("a").subscribe(); // in flight, not waiting
    checks.version("b").subscribe();
    checks.version("c").subscribe();
    assertThatThrownBy(() -> checks.version("d").block(Duration.ofSeconds(5)))
        .isInstanceOf(Overloaded.class);
    lookups.answer(0, Map.of());
    List<Object> d = new CopyOnWriteArrayList<>();
    checks.version("d").subscribe(d::add, d::add); // room again: it waits, not refused
    assertThat(d).isEmpty();
    assertThat(lookups.ids).containsExactly(List.of("a"), List.of("b", "c"));
    lookups.answer(1, Map.of());
    assertThat(lookups.ids).last().isEqualTo(List.of("d"));
    lookups.answer(2, Map.of("d", 9L));
    assertThat(d).containsExactly(9L);
  }

  @Test
  void a_caller_that_waited_past_the_bound_is_refused_not_looked_up() {
    java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong();
    Lookups lookups = new Lookups();
    VersionChecks checks =
        new VersionChecks(lookups::lookup, 100, 1, 1_000, Duration.ofSeconds(5), now::get);
    List<Object> b = new CopyOnWriteArrayList<>();
    List<Object> c = new CopyOnWriteArrayList<>();
    checks.version("a").subscribe(); // its lookup runs, slowly
    checks.version("b").subscribe(b::add, b::add); // waits from 0 s
    now.set(Duration.ofSeconds(6).toNanos());
    checks.version("c").subscribe(c::add, c::add); // joins at 6 s: b has waited too long
    assertThat(b).singleElement().isInstanceOf(Overloaded.class);
    lookups.answer(0, Map.of());
    assertThat(lookups.ids).containsExactly(List.of("a"), List.of("c"));
    lookups.answer(1, Map.of("c", 2L));
    assertThat(c).containsExactly(2L);
  }

  @Test
  void a_lookup_that_completes_empty_answers_never_written() {
    VersionChecks checks = new VersionChecks(ids -> Mono.empty(), 100, 1, 10);
    assertThat(checks.version("a").block(Duration.ofSeconds(5))).isZero();
  }

  /**
   * Threads asking at once, lookups answered on a pool of their own (more threads than the bound,
   * so an excess would show): every caller gets its own stream's version, never more lookups run at
   * once than allowed, and nobody is left waiting.
   */
  @Test
  void many_threads_asking_at_once_are_all_answered_correctly() throws Exception {
    AtomicInteger running = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    AtomicInteger calls = new AtomicInteger();
    ExecutorService lookupPool = Executors.newFixedThreadPool(6);
    ExecutorService callers = Executors.newFixedThreadPool(8);
    VersionChecks checks =
        new VersionChecks(
            ids ->
                Mono.fromCallable(
                        () -> {
                          calls.incrementAndGet();
                          Map<String, Long> versions = new HashMap<>();
                          ids.forEach(id -> versions.put(id, (long) id.hashCode()));
                          return versions;
                        })
                    .subscribeOn(Schedulers.fromExecutorService(lookupPool))
                    // Running from its subscription until its answer is handed over (the slot is
                    // free again once the answer arrives, before the callers are answered).
                    .doOnSubscribe(
                        x -> mostAtOnce.accumulateAndGet(running.incrementAndGet(), Math::max))
                    .doOnNext(x -> running.decrementAndGet()),
            50,
            2,
            1_000_000);
    int threads = 8;
    int each = 5_000;
    CountDownLatch answered = new CountDownLatch(threads * each);
    List<String> wrong = new CopyOnWriteArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        int thread = t;
        callers.execute(
            () -> {
              for (int i = 0; i < each; i++) {
                String id = "p-" + thread + "-" + (i % 100);
                checks
                    .version(id)
                    .subscribe(
                        v -> {
                          if (v != id.hashCode()) {
                            wrong.add(id + "=" + v);
                          }
                          answered.countDown();
                        },
                        e -> {
                          wrong.add(id + ": " + e);
                          answered.countDown();
                        });
              }
            });
      }
      assertThat(answered.await(60, TimeUnit.SECONDS)).as("every caller answered").isTrue();
    } finally {
      callers.shutdownNow();
      lookupPool.shutdownNow();
    }
    assertThat(wrong).isEmpty();
    assertThat(mostAtOnce.get()).isBetween(1, 2);
    assertThat(calls.get()).isLessThan(threads * each); // grouped
  }

  @Test
  void a_lookup_that_throws_instead_of_failing_still_answers_its_callers() {
    VersionChecks checks =
        new VersionChecks(
            ids -> {
              throw new IllegalStateException("bug");
            },
            100,
            1,
            10);
    assertThatThrownBy(() -> checks.version("a").block(Duration.ofSeconds(5)))
        .hasMessageContaining("bug");
    assertThatThrownBy(() -> checks.version("b").block(Duration.ofSeconds(5)))
        .hasMessageContaining("bug"); // the slot was freed
  }
}
