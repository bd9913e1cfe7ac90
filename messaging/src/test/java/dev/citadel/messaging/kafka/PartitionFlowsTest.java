package dev.citadel.messaging.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

class PartitionFlowsTest {
  static final TopicPartition P0 = new TopicPartition("t", 0);
  static final TopicPartition P1 = new TopicPartition("t", 1);
  final List<String> calls = new ArrayList<>();
  final AtomicInteger paused = new AtomicInteger();
  final AtomicInteger held = new AtomicInteger();
  final List<Runnable> onConsumerThread = new ArrayList<>();
  final PartitionFlows flows =
      new PartitionFlows(
          10,
          4,
          new PartitionFlows.Switch() {
            @Override
            public void pause(TopicPartition p) {
              calls.add("pause " + p);
            }

            @Override
            public void resume(TopicPartition p) {
              calls.add("resume " + p);
            }

            @Override
            public void onConsumerThread(Runnable task) {
              onConsumerThread.add(task);
            }
          },
          paused,
          held);

  void receive(TopicPartition p, int n) {
    for (int i = 0; i < n; i++) {
      flows.received(p);
    }
  }

  @Test
  void a_partition_pauses_at_its_mark_and_resumes_when_it_has_caught_up() {
    receive(P0, 9);
    receive(P1, 9);
    assertThat(calls).isEmpty();
    receive(P0, 1);
    assertThat(calls).containsExactly("pause t-0");
    assertThat(paused).hasValue(1);
    flows.handled(P0, 5);
    assertThat(calls).containsExactly("pause t-0");
    flows.handled(P0, 1);
    assertThat(calls).containsExactly("pause t-0", "resume t-0");
    assertThat(paused).hasValue(0);
    // The other partition's records were handled as they came: it never waited on this one.
    flows.handled(P1, 9);
    assertThat(calls).containsExactly("pause t-0", "resume t-0");
  }

  @Test
  void records_that_keep_coming_after_a_pause_ask_for_it_again() {
    receive(P0, 10);
    // A rebalance gave the partition back unpaused, or reactor-kafka resumed it: records come on.
    receive(P0, 4);
    assertThat(calls).containsExactly("pause t-0");
    receive(P0, 1);
    assertThat(calls).containsExactly("pause t-0", "pause t-0");
    assertThat(paused).hasValue(1);
  }

  @Test
  void a_closed_subscription_forgets_its_pauses_and_resumes_nothing() {
    receive(P0, 10);
    flows.close();
    assertThat(paused).hasValue(0);
    flows.handled(P0, 10);
    receive(P0, 20);
    assertThat(calls).containsExactly("pause t-0");
    assertThat(paused).hasValue(0);
  }

  @Test
  void records_received_before_a_revoke_are_no_longer_owned() {
    long before = flows.received(P0);
    long other = flows.received(P1);
    flows.revoked(java.util.List.of(P0));
    long after = flows.received(P0);
    assertThat(flows.owned(P0, before)).isFalse();
    assertThat(flows.owned(P0, after)).isTrue();
    assertThat(flows.owned(P1, other)).isTrue();
  }

  @Test
  void a_partition_given_back_is_paused_or_resumed_as_its_flow_has_it() {
    receive(P0, 10);
    flows.revoked(java.util.List.of(P0));
    // Given back while its old records are still being dropped: paused again (reactor-kafka
    // would restore our old pause too; if the flow had caught up, it must not).
    flows.assigned(java.util.List.of(P0, P1));
    assertThat(calls).containsExactly("pause t-0", "pause t-0", "resume t-1");
    flows.handled(P0, 10);
    assertThat(calls).endsWith("resume t-0");
    assertThat(held).hasValue(0);
    // A resume that found the partition unassigned was skipped: the next assignment resumes it.
    flows.assigned(java.util.List.of(P0));
    assertThat(calls).endsWith("resume t-0", "resume t-0");
  }

  @Test
  void held_records_are_counted_until_handled_or_the_subscription_ends() {
    receive(P0, 3);
    receive(P1, 2);
    assertThat(held).hasValue(5);
    flows.handled(P0, 3);
    assertThat(held).hasValue(2);
    flows.close();
    assertThat(held).hasValue(0);
    flows.handled(P1, 2);
    assertThat(held).hasValue(0);
  }

  /** What the consumer's thread runs between two polls: every task asked for until now. */
  void betweenPolls() {
    List<Runnable> now = new ArrayList<>(onConsumerThread);
    onConsumerThread.clear();
    now.forEach(Runnable::run);
  }

  @Test
  void acknowledgements_land_on_the_consumers_thread_in_order_one_task_for_many() {
    long turn = flows.received(P0);
    flows.received(P0);
    List<String> acked = new ArrayList<>();
    flows.acknowledge(P0, turn, () -> acked.add("a"));
    flows.acknowledge(P0, turn, () -> acked.add("b"));
    assertThat(acked).isEmpty();
    assertThat(onConsumerThread).hasSize(1);
    betweenPolls();
    assertThat(acked).containsExactly("a", "b");
    flows.acknowledge(P0, turn, () -> acked.add("c"));
    assertThat(onConsumerThread).hasSize(1);
    betweenPolls();
    assertThat(acked).containsExactly("a", "b", "c");
  }

  @Test
  void an_acknowledgement_not_landed_before_a_revoke_never_lands() {
    long turn = flows.received(P0);
    List<String> acked = new ArrayList<>();
    flows.acknowledge(P0, turn, () -> acked.add("handled before the revoke"));
    // The rebalance (within a poll, on the consumer's thread) comes first: it commits what was
    // acknowledged, then revokes. An acknowledgement after its commit would be committed later,
    // for a partition another consumer may own by then.
    flows.revoked(List.of(P0));
    betweenPolls();
    flows.acknowledge(P0, turn, () -> acked.add("handled after the revoke"));
    betweenPolls();
    assertThat(acked).isEmpty();
    // The partition given back: records of the new turn are acknowledged again.
    long next = flows.received(P0);
    flows.acknowledge(P0, next, () -> acked.add("new turn"));
    betweenPolls();
    assertThat(acked).containsExactly("new turn");
  }

  @Test
  void marks_must_leave_room_to_resume() {
    assertThatThrownBy(() -> new PartitionFlows(5, 5, null, paused, held))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
