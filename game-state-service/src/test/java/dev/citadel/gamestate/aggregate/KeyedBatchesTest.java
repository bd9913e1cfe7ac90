package dev.citadel.gamestate.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class KeyedBatchesTest {

  @Test
  void requests_arriving_while_a_batch_runs_go_together_and_never_twice_the_same_one() {
    List<List<String>> batches = new ArrayList<>();
    List<Sinks.Empty<Void>> running = new ArrayList<>();
    KeyedBatches<Integer, String> batchesOf =
        new KeyedBatches<>(
            (key, batch) -> {
              batches.add(batch);
              Sinks.Empty<Void> done = Sinks.empty();
              running.add(done);
              return done.asMono().then(Mono.just(Map.<Object, Throwable>of()));
            },
            s -> s.substring(0, 1),
            10);
    List<String> completed = new ArrayList<>();
    for (String r : List.of("a1", "b1", "a2", "c1")) {
      batchesOf.submit(7, r).subscribe(v -> {}, e -> {}, () -> completed.add(r));
    }
    // a1 went alone at once; the others waited for it and then went together.
    assertThat(batches).containsExactly(List.of("a1"));
    running.get(0).tryEmitEmpty();
    assertThat(completed).containsExactly("a1");
    assertThat(batches.get(1)).containsExactly("b1", "a2", "c1");

    // Two requests for the same thing in one wait: the later one goes in the next batch.
    batchesOf.submit(7, "d1").subscribe();
    batchesOf.submit(7, "d2").subscribe();
    running.get(1).tryEmitEmpty();
    assertThat(completed).containsExactly("a1", "b1", "a2", "c1");
    assertThat(batches.get(2)).containsExactly("d1");
    running.get(2).tryEmitEmpty();
    assertThat(batches.get(3)).containsExactly("d2");
  }

  @Test
  void past_the_bound_a_request_is_refused_at_once_and_one_whose_caller_gave_up_never_runs() {
    List<List<String>> batches = new ArrayList<>();
    List<Sinks.Empty<Void>> running = new ArrayList<>();
    KeyedBatches<Integer, String> lane =
        new KeyedBatches<>(
            (key, batch) -> {
              batches.add(batch);
              Sinks.Empty<Void> done = Sinks.empty();
              running.add(done);
              return done.asMono().then(Mono.just(Map.<Object, Throwable>of()));
            },
            s -> s,
            10,
            2,
            "ends");
    lane.submit(1, "running").subscribe();
    lane.submit(1, "w1").subscribe();
    var gaveUp = lane.submit(1, "w2").subscribe();
    List<Throwable> refused = new ArrayList<>();
    lane.submit(1, "w3").subscribe(v -> {}, refused::add);
    assertThat(refused).singleElement().isInstanceOf(Overloaded.class);
    // Another key has a lane of its own.
    lane.submit(2, "other").subscribe();
    assertThat(batches).containsExactly(List.of("running"), List.of("other"));

    gaveUp.dispose(); // its caller gave up while it waited: taken out
    running.get(0).tryEmitEmpty();
    assertThat(batches.get(2)).containsExactly("w1");
  }

  @Test
  void a_failed_batch_fails_every_request_in_it_and_the_lane_goes_on() {
    AtomicReference<Sinks.Empty<Void>> current = new AtomicReference<>();
    KeyedBatches<Integer, String> batches =
        new KeyedBatches<>(
            (key, batch) -> {
              Sinks.Empty<Void> done = Sinks.empty();
              current.set(done);
              return done.asMono().then(Mono.just(Map.<Object, Throwable>of()));
            },
            s -> s,
            10);
    List<Throwable> failed = new ArrayList<>();
    batches.submit(1, "x").subscribe(v -> {}, failed::add);
    batches.submit(1, "y").subscribe(v -> {}, failed::add);
    batches.submit(1, "z").subscribe(v -> {}, failed::add);
    current.get().tryEmitEmpty(); // x
    current.get().tryEmitError(new IllegalStateException("boom")); // y and z together
    assertThat(failed).hasSize(2);
    AtomicReference<Boolean> later = new AtomicReference<>(false);
    batches.submit(1, "w").subscribe(v -> {}, e -> {}, () -> later.set(true));
    current.get().tryEmitEmpty();
    assertThat(later.get()).isTrue();
  }

  @Test
  void a_request_the_runner_names_fails_alone_and_batches_finishing_at_once_do_not_recurse() {
    Sinks.Empty<Void> first = Sinks.empty();
    KeyedBatches<Integer, Integer> batches =
        new KeyedBatches<>(
            (key, batch) ->
                batch.contains(-1)
                    ? first.asMono().then(Mono.just(Map.<Object, Throwable>of()))
                    : Mono.just(
                        batch.contains(13)
                            ? Map.<Object, Throwable>of(13, new IllegalStateException("stale"))
                            : Map.<Object, Throwable>of()),
            r -> r,
            10);
    List<Integer> ok = new ArrayList<>();
    List<Integer> failed = new ArrayList<>();
    batches.submit(1, -1).subscribe();
    for (int i = 0; i < 100_000; i++) {
      int r = i;
      batches.submit(1, r).subscribe(v -> {}, e -> failed.add(r), () -> ok.add(r));
    }
    // 10,000 batches that each finish during subscribe: run in a loop, not 10,000 frames deep.
    first.tryEmitEmpty();
    assertThat(failed).containsExactly(13);
    assertThat(ok).hasSize(99_999);
  }
}
