package dev.citadel.gamestate.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

class GatheredTest {
  static final Duration LONG = Duration.ofMinutes(5);

  /** A writer whose batches end when the test says. */
  static final class Writer {
    final List<List<String>> batches = new CopyOnWriteArrayList<>();
    final List<Sinks.Empty<Void>> ends = new CopyOnWriteArrayList<>();

    Mono<Void> write(List<String> batch) {
      batches.add(List.copyOf(batch));
      Sinks.Empty<Void> end = Sinks.empty();
      ends.add(end);
      return end.asMono();
    }

    void end(int batch) {
      ends.get(batch).tryEmitEmpty().orThrow();
    }

    void fail(int batch, RuntimeException e) {
      ends.get(batch).tryEmitError(e).orThrow();
    }
  }

  /** Subscribes and records how the item's Mono ended. */
  static final class Outcome {
    volatile boolean done;
    volatile Throwable error;

    Outcome(Mono<Void> added) {
      added.subscribe(v -> {}, e -> error = e, () -> done = true);
    }
  }

  @Test
  void a_lone_item_is_written_at_once() {
    Writer writer = new Writer();
    Gathered<String> gathered = new Gathered<>("test", writer::write, 10, 100, LONG);

    Outcome a = new Outcome(gathered.add("a"));

    assertThat(writer.batches).containsExactly(List.of("a"));
    assertThat(a.done).isFalse();
    writer.end(0);
    assertThat(a.done).isTrue();
  }

  @Test
  void items_added_while_a_batch_is_written_go_together_in_the_next_in_order() {
    Writer writer = new Writer();
    Gathered<String> gathered = new Gathered<>("test", writer::write, 10, 100, LONG);
    Outcome a = new Outcome(gathered.add("a"));
    Outcome b = new Outcome(gathered.add("b"));
    Outcome c = new Outcome(gathered.add("c"));

    assertThat(writer.batches).containsExactly(List.of("a"));
    writer.end(0);

    assertThat(a.done).isTrue();
    assertThat(b.done).isFalse();
    assertThat(writer.batches).containsExactly(List.of("a"), List.of("b", "c"));
    writer.end(1);
    assertThat(b.done).isTrue();
    assertThat(c.done).isTrue();
  }

  @Test
  void a_batch_carries_at_most_max_batch_items() {
    Writer writer = new Writer();
    Gathered<String> gathered = new Gathered<>("test", writer::write, 2, 100, LONG);
    List<Outcome> outcomes = new ArrayList<>();
    for (String item : List.of("a", "b", "c", "d", "e")) {
      outcomes.add(new Outcome(gathered.add(item)));
    }

    writer.end(0);
    writer.end(1);
    writer.end(2);

    assertThat(writer.batches).containsExactly(List.of("a"), List.of("b", "c"), List.of("d", "e"));
    assertThat(outcomes).allMatch(o -> o.done);
  }

  @Test
  void past_max_waiting_an_item_is_dropped_at_once_and_counted_and_the_others_are_written() {
    Writer writer = new Writer();
    Gathered<String> gathered = new Gathered<>("test", writer::write, 1, 2, LONG);
    Outcome a = new Outcome(gathered.add("a")); // being written: no longer waiting
    Outcome b = new Outcome(gathered.add("b"));
    Outcome c = new Outcome(gathered.add("c"));

    Outcome d = new Outcome(gathered.add("d"));

    assertThat(d.done).as("dropped, not failed: the host would log each").isTrue();
    assertThat(d.error).isNull();
    assertThat(gathered.dropped()).isEqualTo(1);
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    gathered.counted(meters);
    assertThat(
            meters
                .get("citadel_after_commit_dropped")
                .tag("work", "test")
                .functionCounter()
                .count())
        .isEqualTo(1);
    writer.end(0);
    writer.end(1);
    writer.end(2);
    assertThat(writer.batches).containsExactly(List.of("a"), List.of("b"), List.of("c"));
    assertThat(List.of(a, b, c)).allMatch(o -> o.done && o.error == null);
  }

  @Test
  void a_failed_batch_ends_its_own_items_and_the_next_batch_is_still_written() {
    Writer writer = new Writer();
    Gathered<String> gathered = new Gathered<>("test", writer::write, 10, 100, LONG);
    Outcome a = new Outcome(gathered.add("a"));
    Outcome b = new Outcome(gathered.add("b"));

    writer.fail(0, new IllegalStateException("redis down"));

    assertThat(a.done).as("logged once by the batch, not by each item").isTrue();
    assertThat(a.error).isNull();
    assertThat(b.done).isFalse();
    assertThat(writer.batches).containsExactly(List.of("a"), List.of("b"));
    writer.end(1);
    assertThat(b.done).isTrue();
  }

  @Test
  void a_writer_that_throws_fails_its_batch_and_keeps_the_turn_free() {
    List<List<String>> seen = new ArrayList<>();
    Gathered<String> gathered =
        new Gathered<>(
            "test",
            batch -> {
              seen.add(List.copyOf(batch));
              if (batch.contains("bad")) {
                throw new IllegalArgumentException("cannot write");
              }
              return Mono.empty();
            },
            10,
            100,
            LONG);

    gathered.add("bad").block(Duration.ofSeconds(5)); // ends, logged once
    gathered.add("good").block(Duration.ofSeconds(5));

    assertThat(seen).containsExactly(List.of("bad"), List.of("good"));
  }

  @Test
  void batches_that_end_during_their_own_write_do_not_grow_the_stack() {
    Sinks.Empty<Void> first = Sinks.empty();
    List<Integer> written = new ArrayList<>();
    Gathered<Integer> gathered =
        new Gathered<>(
            "test",
            batch -> {
              written.addAll(batch);
              return written.size() == 1 ? first.asMono() : Mono.empty();
            },
            1,
            100_000,
            LONG);
    List<Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < 50_000; i++) {
      outcomes.add(new Outcome(gathered.add(i)));
    }

    first.tryEmitEmpty().orThrow(); // the other 49,999 are written on this thread, one by one

    assertThat(written).hasSize(50_000).isSorted();
    assertThat(outcomes).allMatch(o -> o.done);
  }

  @Test
  void a_batch_that_outlasts_max_write_ends_and_the_next_one_goes() {
    Writer writer = new Writer();
    Gathered<String> gathered =
        new Gathered<>("test", writer::write, 10, 100, Duration.ofMillis(50));
    Outcome a = new Outcome(gathered.add("a")); // never answered
    Outcome b = new Outcome(gathered.add("b"));

    await().atMost(Duration.ofSeconds(10)).until(() -> writer.batches.size() == 2);

    assertThat(a.done).isTrue();
    assertThat(writer.batches).containsExactly(List.of("a"), List.of("b"));
    writer.end(1); // b's write may subscribe to its end a moment later, on the timer's thread
    await().atMost(Duration.ofSeconds(10)).until(() -> b.done);
  }

  @Test
  void bounds_must_make_sense() {
    assertThatThrownBy(() -> new Gathered<String>("test", b -> Mono.empty(), 0, 10, LONG))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Gathered<String>("test", b -> Mono.empty(), 10, 5, LONG))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Gathered<String>("test", b -> Mono.empty(), 10, 50, Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
