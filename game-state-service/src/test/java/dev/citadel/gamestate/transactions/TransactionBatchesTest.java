package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.IdempotencyKey;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * The grouping alone, pure: transactions are functions the test completes by hand (what runs as a
 * batch, what runs alone, and in which order).
 */
class TransactionBatchesTest {
  /** Runs of several results: what each got, and the sink the test completes it with. */
  final List<List<String>> together = new CopyOnWriteArrayList<>();

  final List<Sinks.One<String>> togetherDone = new CopyOnWriteArrayList<>();

  /** Results run alone, and the sinks the test completes them with. */
  final List<String> alone = new CopyOnWriteArrayList<>();

  final List<Sinks.One<Coordinator.Outcome>> aloneDone = new CopyOnWriteArrayList<>();

  final SimpleMeterRegistry meters = new SimpleMeterRegistry();

  TransactionBatches batches(int inFlight, int batch, int waiting) {
    return new TransactionBatches(
        "test",
        txs -> {
          together.add(txs.stream().map(t -> t.key().value()).toList());
          Sinks.One<String> done = Sinks.one();
          togetherDone.add(done);
          return done.asMono();
        },
        inFlight,
        batch,
        waiting,
        meters);
  }

  final Function<Coordinator.Keyed, Mono<Coordinator.Outcome>> runAlone =
      tx -> {
        alone.add(tx.key().value());
        Sinks.One<Coordinator.Outcome> done = Sinks.one();
        aloneDone.add(done);
        return done.asMono();
      };

  static Coordinator.Keyed result(String match, String... players) {
    List<Step> steps = new ArrayList<>();
    for (String p : players) {
      steps.add(new Step(p, "rate-match", Map.of()));
    }
    return new Coordinator.Keyed(steps, IdempotencyKey.of("result:" + match, "TEAM_0_WON"));
  }

  @Test
  void results_that_wait_while_the_slots_are_taken_go_together_in_one_transaction() {
    TransactionBatches b = batches(1, 32, 100);
    List<Coordinator.Outcome> answers = new CopyOnWriteArrayList<>();
    b.submit(result("m1", "a", "b"), runAlone).subscribe(answers::add);
    assertThat(alone).as("a free slot: the first runs at once, alone").containsExactly("result:m1");

    b.submit(result("m2", "c", "d"), runAlone).subscribe(answers::add);
    b.submit(result("m3", "e", "f"), runAlone).subscribe(answers::add);
    assertThat(together).as("nothing runs while the only slot is taken").isEmpty();

    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(together).containsExactly(List.of("result:m2", "result:m3"));
    togetherDone.get(0).tryEmitValue("tx");
    assertThat(answers)
        .as("the two together answer the transaction they shared")
        .containsExactly(
            new Coordinator.Outcome("tx-alone", false),
            new Coordinator.Outcome("tx", false),
            new Coordinator.Outcome("tx", false));
  }

  @Test
  void a_batch_that_fails_runs_each_result_alone_and_each_caller_gets_its_own_answer() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m0", "z"), runAlone).subscribe();
    List<Object> answers = new CopyOnWriteArrayList<>();
    b.submit(result("m1", "a"), runAlone).subscribe(answers::add, answers::add);
    b.submit(result("m2", "b"), runAlone).subscribe(answers::add, answers::add);
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(together).hasSize(1);

    togetherDone.get(0).tryEmitError(new IllegalStateException("a player was held"));
    assertThat(alone).containsExactly("result:m0", "result:m1", "result:m2");
    aloneDone.get(1).tryEmitValue(new Coordinator.Outcome("tx-alone", true)); // a repeat
    Refused conflict = new Refused(Refused.Reason.CONFLICT, "a different result", null);
    aloneDone.get(2).tryEmitError(conflict);
    assertThat(answers)
        .containsExactlyInAnyOrder(new Coordinator.Outcome("tx-alone", true), conflict);
    assertThat(meters.counter("citadel_test_batches_split").count()).isEqualTo(1);
    assertThat(meters.counter("citadel_test_batches_refused").count()).isZero();
  }

  @Test
  void a_batch_refused_for_capacity_refuses_its_callers_instead_of_running_each_alone() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m0", "z"), runAlone).subscribe();
    List<Throwable> answers = new CopyOnWriteArrayList<>();
    b.submit(result("m1", "a"), runAlone).subscribe(o -> {}, answers::add);
    b.submit(result("m2", "b"), runAlone).subscribe(o -> {}, answers::add);
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    Refused overloaded =
        new Refused(
            Refused.Reason.UNAVAILABLE,
            "too busy",
            new dev.citadel.gamestate.aggregate.Overloaded("version-checks", "full"));
    togetherDone.get(0).tryEmitError(overloaded);
    assertThat(answers).containsExactly(overloaded, overloaded);
    assertThat(alone).as("none run again alone").containsExactly("result:m0");
    assertThat(meters.counter("citadel_test_batches_refused").count()).isEqualTo(1);
    assertThat(meters.counter("citadel_test_batches_split").count()).isZero();
  }

  @Test
  void a_batch_refused_because_one_players_mailbox_is_full_runs_each_result_alone() {
    // One busy player refuses its own match's result; the batch's others must not get 503 with it.
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m0", "z"), runAlone).subscribe();
    b.submit(result("m1", "a"), runAlone).subscribe(o -> {}, e -> {});
    b.submit(result("m2", "b"), runAlone).subscribe(o -> {}, e -> {});
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    togetherDone
        .get(0)
        .tryEmitError(
            new Refused(
                Refused.Reason.UNAVAILABLE,
                "busy player",
                new dev.citadel.gamestate.aggregate.Overloaded("mailbox", "64 waiting")));
    assertThat(alone).containsExactly("result:m0", "result:m1", "result:m2");
    assertThat(meters.counter("citadel_test_batches_split").count()).isEqualTo(1);
    assertThat(meters.counter("citadel_test_batches_refused").count()).isZero();
  }

  @Test
  void a_result_whose_players_are_in_a_running_transaction_waits_for_the_next() {
    TransactionBatches b = batches(2, 32, 100);
    b.submit(result("m1", "a", "b"), runAlone).subscribe();
    // The same result posted again while the first runs: not beside it, not in its batch.
    b.submit(result("m1", "a", "b"), runAlone).subscribe();
    assertThat(alone).containsExactly("result:m1");
    assertThat(together).isEmpty();

    b.submit(result("m2", "c"), runAlone).subscribe();
    assertThat(alone)
        .as("a free slot and other players: runs at once")
        .containsExactly("result:m1", "result:m2");

    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(alone)
        .as("its players free again: the repeat runs (alone, where its key answers)")
        .containsExactly("result:m1", "result:m2", "result:m1");
  }

  @Test
  void a_copy_that_waited_for_its_original_runs_alone_and_the_others_still_go_together() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m1", "a", "b"), runAlone).subscribe();
    b.submit(result("m2", "c"), runAlone).subscribe();
    b.submit(result("m1", "a", "b"), runAlone).subscribe(); // sent again while the first runs
    b.submit(result("m3", "d"), runAlone).subscribe();

    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(together)
        .as("the copy met its original running: not in the batch")
        .containsExactly(List.of("result:m2", "result:m3"));
    togetherDone.get(0).tryEmitValue("tx");

    assertThat(alone).as("then alone").containsExactly("result:m1", "result:m1");
  }

  @Test
  void a_result_that_waited_for_a_running_one_goes_first_in_the_next_batch_alone() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m1", "a"), runAlone).subscribe();
    b.submit(result("m2", "b"), runAlone).subscribe();
    b.submit(result("m1", "a"), runAlone).subscribe();
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    // m2 and the copy of m1 waited; the copy met m1 running. m2 runs; the copy waits for a batch of
    // its own even though m2's batch had room.
    assertThat(alone).containsExactly("result:m1", "result:m2");
    b.submit(result("m4", "c"), runAlone).subscribe();
    b.submit(result("m5", "d"), runAlone).subscribe();
    aloneDone.get(1).tryEmitValue(new Coordinator.Outcome("tx-alone", false));

    assertThat(alone).containsExactly("result:m1", "result:m2", "result:m1");
    aloneDone.get(2).tryEmitValue(new Coordinator.Outcome("tx-alone", true));
    assertThat(together).containsExactly(List.of("result:m4", "result:m5"));
  }

  @Test
  void a_result_left_waiting_keeps_its_players_from_later_ones_so_each_player_keeps_its_order() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m1", "a"), runAlone).subscribe();
    b.submit(result("z", "c"), runAlone).subscribe();
    b.submit(result("x", "a", "b"), runAlone).subscribe(); // met m1 running: alone, later
    b.submit(result("y", "b"), runAlone).subscribe(); // after x on b: never before it

    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(together).as("y does not join z's batch ahead of x").isEmpty();
    assertThat(alone).containsExactly("result:m1", "result:z");
    aloneDone.get(1).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(alone).containsExactly("result:m1", "result:z", "result:x");
    aloneDone.get(2).tryEmitValue(new Coordinator.Outcome("tx-alone", false));

    assertThat(alone).containsExactly("result:m1", "result:z", "result:x", "result:y");
  }

  @Test
  void a_copy_sent_just_after_its_original_ended_still_runs_alone() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m1", "a"), runAlone).subscribe();
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    b.submit(result("m0", "z"), runAlone).subscribe();
    b.submit(result("m1", "a"), runAlone).subscribe(); // its players are free again
    b.submit(result("m2", "b"), runAlone).subscribe();

    aloneDone.get(1).tryEmitValue(new Coordinator.Outcome("tx-alone", false));

    assertThat(together).as("the copy is known by its key: not in a batch").isEmpty();
    assertThat(alone).containsExactly("result:m1", "result:m0", "result:m1");
  }

  @Test
  void a_copy_that_waited_while_its_original_ran_in_a_full_batch_runs_alone() {
    TransactionBatches b = batches(1, 2, 100);
    b.submit(result("m0", "z"), runAlone).subscribe();
    b.submit(result("m1", "a"), runAlone).subscribe();
    b.submit(result("m3", "c"), runAlone).subscribe();
    b.submit(result("m1", "a"), runAlone).subscribe(); // not looked at: the batch is full
    b.submit(result("m2", "b"), runAlone).subscribe();
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(together).containsExactly(List.of("result:m1", "result:m3"));

    togetherDone.get(0).tryEmitValue("tx");

    assertThat(together).as("its key committed: not batched with m2").hasSize(1);
    assertThat(alone).containsExactly("result:m0", "result:m1");
  }

  @Test
  void results_refused_for_capacity_are_no_copies_when_sent_again() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m0", "z"), runAlone).subscribe();
    b.submit(result("m1", "a"), runAlone).subscribe(o -> {}, e -> {});
    b.submit(result("m2", "b"), runAlone).subscribe(o -> {}, e -> {});
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    togetherDone
        .get(0)
        .tryEmitError(
            new Refused(
                Refused.Reason.UNAVAILABLE,
                "too busy",
                new dev.citadel.gamestate.aggregate.Overloaded("version-checks", "full")));

    b.submit(result("m9", "y"), runAlone).subscribe();
    b.submit(result("m1", "a"), runAlone).subscribe();
    b.submit(result("m2", "b"), runAlone).subscribe();
    aloneDone.get(1).tryEmitValue(new Coordinator.Outcome("tx-alone", false));

    assertThat(together)
        .as("sent again after a 503: together again, not one by one")
        .containsExactly(List.of("result:m1", "result:m2"), List.of("result:m1", "result:m2"));
  }

  @Test
  void two_copies_of_one_result_never_share_a_batch() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m0", "z"), runAlone).subscribe();
    b.submit(result("m1", "a", "b"), runAlone).subscribe();
    b.submit(result("m1", "a", "b"), runAlone).subscribe();
    b.submit(result("m2", "c"), runAlone).subscribe();
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(together).containsExactly(List.of("result:m1", "result:m2"));
    togetherDone.get(0).tryEmitValue("tx");
    assertThat(alone).as("the copy ran after, alone").containsExactly("result:m0", "result:m1");
  }

  @Test
  void a_caller_that_gives_up_while_waiting_takes_its_result_out() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m0", "z"), runAlone).subscribe();
    var gaveUp = b.submit(result("m1", "a"), runAlone).subscribe();
    b.submit(result("m2", "b"), runAlone).subscribe();
    gaveUp.dispose();
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(together).isEmpty();
    assertThat(alone).as("only the one still waited for").containsExactly("result:m0", "result:m2");
  }

  @Test
  void a_split_batch_runs_its_results_a_few_at_a_time() {
    TransactionBatches b = batches(1, 32, 100);
    b.submit(result("m0", "z"), runAlone).subscribe();
    for (int i = 1; i <= 5; i++) {
      b.submit(result("m" + i, "p" + i), runAlone).subscribe();
    }
    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    togetherDone.get(0).tryEmitError(new IllegalStateException("a player was held"));
    assertThat(alone).hasSize(1 + TransactionBatches.SPLIT_CONCURRENCY);
    aloneDone.get(1).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(alone).hasSize(2 + TransactionBatches.SPLIT_CONCURRENCY);
  }

  @Test
  void batches_are_bounded_and_so_is_the_wait() {
    TransactionBatches b = batches(1, 2, 3);
    b.submit(result("m0", "z"), runAlone).subscribe();
    for (int i = 1; i <= 3; i++) {
      b.submit(result("m" + i, "p" + i), runAlone).subscribe();
    }
    StepVerifier.create(b.submit(result("m4", "p4"), runAlone))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOfSatisfying(
                        Refused.class,
                        r -> assertThat(r.reason()).isEqualTo(Refused.Reason.UNAVAILABLE)))
        .verify();

    aloneDone.get(0).tryEmitValue(new Coordinator.Outcome("tx-alone", false));
    assertThat(together).containsExactly(List.of("result:m1", "result:m2"));
    togetherDone.get(0).tryEmitValue("tx");
    assertThat(alone).as("the last one left, alone").containsExactly("result:m0", "result:m3");
  }
}
