package dev.citadel.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.kafka.KafkaCluster;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * Three brokers, replication 3, min.insync.replicas 2: the durability the matchmaking hand-off
 * relies on, through our own publisher and consumer.
 */
class ReplicatedKafkaTest {
  static final int PARTITIONS = 6;
  static KafkaCluster cluster;
  static Admin admin;
  static KafkaSettings settings;

  @BeforeAll
  static void startCluster() {
    cluster = KafkaCluster.startLocal(3);
    Properties props = new Properties();
    props.put("bootstrap.servers", cluster.endpoint().bootstrapServers());
    admin = Admin.create(props);
    settings =
        KafkaSettings.defaults(cluster.endpoint().bootstrapServers(), "replicated-test")
            .withHandlerBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
  }

  @AfterAll
  static void stopCluster() {
    admin.close();
    cluster.close();
  }

  static void createTopic(String name) throws Exception {
    admin
        .createTopics(
            List.of(
                new NewTopic(name, PARTITIONS, (short) 3)
                    .configs(Map.of("min.insync.replicas", "2"))))
        .all()
        .get();
    KafkaTopics.awaitLeaders(admin, List.of(name), Duration.ofSeconds(30));
    // Every replica in sync before a test writes with acks=all and min.insync.replicas 2: a
    // follower still joining makes the first writes wait for it.
    await().atMost(Duration.ofSeconds(30)).until(() -> replicasInSync(name));
  }

  static boolean replicasInSync(String topic) throws Exception {
    return admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get()
        .get(topic)
        .partitions()
        .stream()
        .allMatch(p -> p.isr().size() == p.replicas().size());
  }

  /**
   * Publishes all, or fails saying how far it got and what the topic looked like (a timeout alone
   * says nothing about a flaky cluster).
   */
  static void publishAll(MessagePublisher publisher, String topic, int total, Duration timeout)
      throws Exception {
    AtomicInteger delivered = new AtomicInteger();
    try {
      publisher
          .publishAll(Flux.range(0, total).map(i -> message(topic, i)))
          .doOnNext(d -> delivered.incrementAndGet())
          .blockLast(timeout);
    } catch (IllegalStateException e) {
      throw new AssertionError(
          "published "
              + delivered.get()
              + " of "
              + total
              + " in "
              + timeout
              + "; partitions now: "
              + admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions(),
          e);
    }
  }

  static OutgoingMessage message(String topic, int i) {
    String key = "player-" + (i % 50);
    return new OutgoingMessage(
        topic, key, (key + ":" + i).getBytes(StandardCharsets.UTF_8), Map.of("seq", "" + i));
  }

  static long recordsInTopic(String topic) throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < PARTITIONS; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    return admin.listOffsets(latest).all().get().values().stream()
        .mapToLong(info -> info.offset())
        .sum();
  }

  @Test
  void acks_all_producer_loses_and_duplicates_nothing_while_a_broker_stops_mid_stream()
      throws Exception {
    String topic = "match.found.test";
    createTopic(topic);
    int total = 3000;
    int leaderOfPartition0 =
        admin
            .describeTopics(List.of(topic))
            .allTopicNames()
            .get()
            .get(topic)
            .partitions()
            .get(0)
            .leader()
            .id();
    // Stop the leader of partition 0 once a quarter is stored; the second half is only offered
    // after the broker is down, so sends are in flight both during and after the stop.
    AtomicInteger delivered = new AtomicInteger();
    Sinks.Empty<Void> brokerDown = Sinks.empty();
    Flux<OutgoingMessage> source =
        Flux.range(0, total)
            .concatMap(i -> i == total / 2 ? brokerDown.asMono().thenReturn(i) : Mono.just(i))
            .map(i -> message(topic, i));

    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      List<Delivery> deliveries =
          publisher
              .publishAll(source)
              .doOnNext(
                  d -> {
                    if (delivered.incrementAndGet() == total / 4) {
                      Mono.fromRunnable(() -> cluster.stopBroker(leaderOfPartition0))
                          .subscribeOn(Schedulers.boundedElastic())
                          .subscribe(v -> {}, brokerDown::tryEmitError, brokerDown::tryEmitEmpty);
                    }
                  })
              .collectList()
              .block(Duration.ofSeconds(120));
      assertThat(deliveries).hasSize(total);
    }
    assertThat(recordsInTopic(topic)).as("no duplicates from producer retries").isEqualTo(total);

    // Everything is readable from the two brokers left, in order per key.
    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    try (MessagePublisher deadLetters = new ReactorKafkaPublisher(settings)) {
      Disposable consumer =
          new ReactorKafkaConsumer(settings, deadLetters)
              .start(
                  "readers",
                  List.of(topic),
                  m -> {
                    seen.computeIfAbsent(m.key(), k -> new CopyOnWriteArrayList<>())
                        .add(Integer.parseInt(m.headers().get("seq")));
                    return Mono.empty();
                  });
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> seen.values().stream().mapToInt(List::size).sum() >= total);
      } finally {
        consumer.dispose();
      }
    }
    Set<Integer> distinct = ConcurrentHashMap.newKeySet();
    seen.values().forEach(distinct::addAll);
    assertThat(distinct).hasSize(total);
    seen.values().forEach(seqs -> assertThat(firstOccurrences(seqs)).isSorted());

    // The broker comes back on its old data and catches up: every partition in sync on three.
    cluster.startBroker(leaderOfPartition0);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                admin
                    .describeTopics(List.of(topic))
                    .allTopicNames()
                    .get()
                    .get(topic)
                    .partitions()
                    .stream()
                    .allMatch(p -> p.isr().size() == 3));
  }

  @Test
  void offsets_are_committed_only_after_the_handler_so_a_crashed_consumer_loses_nothing()
      throws Exception {
    String topic = "commit.test";
    createTopic(topic);
    int total = 2000;
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      publishAll(publisher, topic, total, Duration.ofSeconds(60));

      Set<Integer> handled = ConcurrentHashMap.newKeySet();
      AtomicInteger firstRun = new AtomicInteger();
      // The first consumer "crashes" part-way: its handler stops completing after 500 messages,
      // so the rest are received but never acknowledged.
      Disposable crashing =
          new ReactorKafkaConsumer(settings, publisher)
              .start(
                  "crashy",
                  List.of(topic),
                  m -> {
                    if (firstRun.incrementAndGet() > 500) {
                      return Mono.never();
                    }
                    handled.add(Integer.parseInt(m.headers().get("seq")));
                    return Mono.empty();
                  });
      await().atMost(Duration.ofSeconds(30)).until(() -> firstRun.get() > 500);
      crashing.dispose();
      assertThat(handled).hasSizeLessThan(total);

      // A new consumer in the same group resumes from the committed offsets.
      Disposable resumed =
          new ReactorKafkaConsumer(settings, publisher)
              .start(
                  "crashy",
                  List.of(topic),
                  m -> {
                    handled.add(Integer.parseInt(m.headers().get("seq")));
                    return Mono.empty();
                  });
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == total);
      } finally {
        resumed.dispose();
      }
    }
  }

  /**
   * A handler that fails for much longer than any fixed number of retries (a database outage): the
   * message waits and is handled when the handler recovers; nothing is dead-lettered, and the
   * messages after it on its partition keep their order.
   */
  @Test
  void a_long_transient_failure_is_waited_out_in_order_and_never_dead_lettered() throws Exception {
    String topic = "outage.test";
    createTopic(topic);
    int total = 120;
    java.util.concurrent.atomic.AtomicBoolean down =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    AtomicInteger failures = new AtomicInteger();
    Map<String, List<Integer>> byKey = new ConcurrentHashMap<>();
    Set<Integer> handled = ConcurrentHashMap.newKeySet();
    List<String> deadLettered = new CopyOnWriteArrayList<>();
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      publishAll(publisher, topic, total, Duration.ofSeconds(30));
      MessageHandler needsTheDatabase =
          m -> {
            if (down.get()) {
              failures.incrementAndGet();
              return Mono.error(new IllegalStateException("database is down"));
            }
            int seq = Integer.parseInt(m.headers().get("seq"));
            handled.add(seq);
            byKey.computeIfAbsent(m.key(), k -> new CopyOnWriteArrayList<>()).add(seq);
            return Mono.empty();
          };
      Disposable consumer =
          new ReactorKafkaConsumer(settings, publisher)
              .start("outage", List.of(topic), needsTheDatabase);
      Disposable dlq =
          new ReactorKafkaConsumer(settings, publisher)
              .start(
                  "outage-dlq-reader",
                  List.of(topic + ReactorKafkaConsumer.DEAD_LETTER_SUFFIX),
                  m -> {
                    deadLettered.add(m.headers().get("seq"));
                    return Mono.empty();
                  });
      try {
        // Far more failures than the old five attempts per message would have allowed.
        await().atMost(Duration.ofSeconds(60)).until(() -> failures.get() >= 60);
        down.set(false);
        await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() == total);
      } finally {
        consumer.dispose();
        dlq.dispose();
      }
    }
    assertThat(deadLettered).isEmpty();
    byKey.values().forEach(seqs -> assertThat(firstOccurrences(seqs)).isSorted());
  }

  @Test
  void a_transient_failure_is_retried_and_a_poison_message_is_dead_lettered() throws Exception {
    String topic = "retry.test";
    createTopic(topic);
    List<Integer> handled = new CopyOnWriteArrayList<>();
    List<String> deadLettered = new CopyOnWriteArrayList<>();
    AtomicInteger transientFailures = new AtomicInteger();
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      publisher
          .publishAll(Flux.range(0, 20).map(i -> message(topic, i)))
          .blockLast(Duration.ofSeconds(30));
      MessageHandler flaky =
          m -> {
            int seq = Integer.parseInt(m.headers().get("seq"));
            if (seq == 7) {
              return Mono.error(new Unprocessable("poison " + seq));
            }
            if (seq == 3 && transientFailures.getAndIncrement() < 2) {
              return Mono.error(new IllegalStateException("transient"));
            }
            handled.add(seq);
            return Mono.empty();
          };
      Disposable consumer =
          new ReactorKafkaConsumer(settings, publisher).start("flaky", List.of(topic), flaky);
      Disposable dlq =
          new ReactorKafkaConsumer(settings, publisher)
              .start(
                  "dlq-reader",
                  List.of(topic + ReactorKafkaConsumer.DEAD_LETTER_SUFFIX),
                  m -> {
                    deadLettered.add(m.headers().get("seq") + " " + m.headers().get("dlq-error"));
                    return Mono.empty();
                  });
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> handled.size() == 19 && deadLettered.size() == 1);
      } finally {
        consumer.dispose();
        dlq.dispose();
      }
    }
    assertThat(handled).contains(3).doesNotContain(7);
    assertThat(deadLettered).singleElement().asString().startsWith("7 ").contains("poison 7");
  }

  @Test
  void batches_hold_one_partition_in_order_and_a_poison_message_is_dead_lettered_alone()
      throws Exception {
    String topic = "batch.test";
    createTopic(topic);
    int total = 1000;
    Map<Integer, List<Integer>> byPartition = new ConcurrentHashMap<>();
    List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    List<String> deadLettered = new CopyOnWriteArrayList<>();
    Set<Integer> handled = ConcurrentHashMap.newKeySet();
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      // Published before the consumer starts, so batches fill up.
      publishAll(publisher, topic, total, Duration.ofSeconds(60));
      BatchHandler handler =
          batch -> {
            if (batch.stream().anyMatch(m -> m.headers().get("seq").equals("77"))) {
              return Mono.error(new Unprocessable("poison 77"));
            }
            assertThat(batch.stream().map(IncomingMessage::partition).distinct()).hasSize(1);
            batchSizes.add(batch.size());
            for (IncomingMessage m : batch) {
              int seq = Integer.parseInt(m.headers().get("seq"));
              handled.add(seq);
              byPartition
                  .computeIfAbsent(m.partition(), k -> new CopyOnWriteArrayList<>())
                  .add(seq);
            }
            return Mono.empty();
          };
      Disposable consumer =
          new ReactorKafkaConsumer(settings, publisher)
              .startBatched("batched", List.of(topic), 100, handler);
      Disposable dlq =
          new ReactorKafkaConsumer(settings, publisher)
              .start(
                  "batch-dlq-reader",
                  List.of(topic + ReactorKafkaConsumer.DEAD_LETTER_SUFFIX),
                  m -> {
                    deadLettered.add(m.headers().get("seq"));
                    return Mono.empty();
                  });
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> handled.size() == total - 1 && deadLettered.size() == 1);
      } finally {
        consumer.dispose();
        dlq.dispose();
      }
    }
    assertThat(deadLettered).containsExactly("77");
    assertThat(handled).doesNotContain(77);
    assertThat(batchSizes).allMatch(n -> n <= 100).anyMatch(n -> n > 1);
    byPartition.values().forEach(seqs -> assertThat(firstOccurrences(seqs)).isSorted());
  }

  @Test
  void a_rebalance_in_the_middle_of_batches_loses_nothing_and_applies_each_key_in_order()
      throws Exception {
    String topic = "rebalance.test";
    createTopic(topic);
    int total = 3000;
    int keys = 50;
    // An idempotent handler, as every handler of ours is: a message at or below the key's last
    // applied sequence is a redelivery (skipped); anything but the next one would be a gap.
    Map<String, Integer> last = new ConcurrentHashMap<>();
    java.util.concurrent.atomic.AtomicInteger published =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger applied =
        new java.util.concurrent.atomic.AtomicInteger();
    List<String> gaps = new CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicInteger redelivered =
        new java.util.concurrent.atomic.AtomicInteger();
    Map<String, java.util.concurrent.atomic.AtomicInteger> batchesBy = new ConcurrentHashMap<>();
    java.util.function.Function<String, BatchHandler> handler =
        name ->
            batch ->
                // Each batch takes a while, so rebalances find batches in flight.
                Mono.delay(Duration.ofMillis(100))
                    .then(
                        Mono.fromRunnable(
                            () -> {
                              for (IncomingMessage m : batch) {
                                int seq = Integer.parseInt(m.headers().get("seq"));
                                last.compute(
                                    m.key(),
                                    (k, before) -> {
                                      int expected = before == null ? seq % keys : before + keys;
                                      if (before != null && seq <= before) {
                                        redelivered.incrementAndGet();
                                        return before;
                                      }
                                      if (seq != expected) {
                                        gaps.add(k + ": " + seq + " after " + before);
                                      }
                                      applied.incrementAndGet();
                                      return seq;
                                    });
                              }
                              batchesBy
                                  .computeIfAbsent(
                                      name, n -> new java.util.concurrent.atomic.AtomicInteger())
                                  .incrementAndGet();
                            }));
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      publisher
          .publishAll(Flux.range(0, total / 2).map(i -> message(topic, i)))
          .blockLast(Duration.ofSeconds(60));
      published.set(total / 2);
      Disposable a =
          new ReactorKafkaConsumer(settings, publisher)
              .startBatched("rebalancing", List.of(topic), 20, handler.apply("a"));
      Disposable b = null;
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> batchesBy.containsKey("a"));
        // A second member joins while the first is in the middle of its batches ...
        b =
            new ReactorKafkaConsumer(settings, publisher)
                .startBatched("rebalancing", List.of(topic), 20, handler.apply("b"));
        // More keeps arriving until the second member has handled a batch, so it has work
        // whichever partitions it gets, whenever its join completes.
        for (int chunk = 0; chunk < 60 && !batchesBy.containsKey("b"); chunk++) {
          int from = published.get();
          publisher
              .publishAll(Flux.range(from, 300).map(i -> message(topic, i)))
              .blockLast(Duration.ofSeconds(60));
          published.addAndGet(300);
          // Paced by the consumers: the next chunk once this one is applied (or b has work).
          await()
              .atMost(Duration.ofSeconds(30))
              .pollInterval(Duration.ofMillis(20))
              .until(() -> batchesBy.containsKey("b") || applied.get() >= published.get());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> batchesBy.containsKey("b"));
        // ... then the first leaves in the middle of one (its batch is cancelled, not
        // acknowledged).
        a.dispose();
        await()
            .atMost(Duration.ofSeconds(120))
            .until(
                () ->
                    last.size() == keys
                        && last.values().stream().allMatch(seq -> seq >= published.get() - keys));
      } finally {
        a.dispose();
        if (b != null) {
          b.dispose();
        }
      }
    }
    System.out.printf(
        "rebalance mid-batch: batches %s, %d redelivered messages skipped%n",
        batchesBy, redelivered.get());
    assertThat(gaps).isEmpty();
  }

  private static List<Integer> firstOccurrences(List<Integer> seqs) {
    List<Integer> firsts = new ArrayList<>();
    Set<Integer> seen = new java.util.HashSet<>();
    for (Integer s : seqs) {
      if (seen.add(s)) {
        firsts.add(s);
      }
    }
    return firsts;
  }
}
