package dev.citadel.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.kafka.KafkaCluster;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * One partition whose handler fails for as long as its database is away, with a backlog behind it,
 * and another partition of the same consumer. The stuck partition may wait (its messages keep their
 * order); the other must go on. Before the consumer paused a partition with too much waiting, the
 * stuck partition's backlog filled the consumer's one shared window (reactor's {@code groupBy}
 * takes 256 records at a time across every partition and only frees a slot when a record is
 * handled), and from then on no partition of that consumer got a record.
 */
class StuckPartitionTest {
  static final int BACKLOG = 3_000;
  static KafkaCluster cluster;
  static Admin admin;
  static KafkaSettings settings;

  @BeforeAll
  static void startCluster() {
    cluster = KafkaCluster.startLocal(1);
    Properties props = new Properties();
    props.put("bootstrap.servers", cluster.endpoint().bootstrapServers());
    admin = Admin.create(props);
    settings =
        KafkaSettings.defaults(cluster.endpoint().bootstrapServers(), "stuck-test")
            .withHandlerBackoff(Duration.ofMillis(20), Duration.ofMillis(100));
  }

  @AfterAll
  static void stopCluster() {
    admin.close();
    cluster.close();
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void a_partition_stuck_retrying_holds_up_only_itself(boolean batched) throws Exception {
    String topic = "stuck.test." + batched;
    admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
    KafkaTopics.awaitLeaders(admin, List.of(topic), Duration.ofSeconds(30));
    try (KafkaProducer<String, byte[]> raw = rawProducer()) {
      for (int i = 0; i < BACKLOG; i++) {
        raw.send(record(topic, 0, i));
      }
      raw.flush();
    }
    AtomicBoolean databaseAway = new AtomicBoolean(true);
    AtomicInteger failures = new AtomicInteger();
    List<Integer> stuckPartition = new CopyOnWriteArrayList<>();
    List<Integer> otherPartition = new CopyOnWriteArrayList<>();
    Function<IncomingMessage, Mono<Void>> handle =
        m -> {
          int seq = Integer.parseInt(new String(m.value(), StandardCharsets.UTF_8));
          if (m.partition() == 1) {
            otherPartition.add(seq);
            return Mono.empty();
          }
          if (databaseAway.get()) {
            failures.incrementAndGet();
            return Mono.error(new IllegalStateException("database is away"));
          }
          stuckPartition.add(seq);
          return Mono.empty();
        };
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      ReactorKafkaConsumer consumer = new ReactorKafkaConsumer(settings, publisher, meters);
      Disposable running =
          batched
              ? consumer.startBatched(
                  "stuck",
                  List.of(topic),
                  100,
                  // One at a time: the flag read as each message's turn comes.
                  batch -> reactor.core.publisher.Flux.fromIterable(batch).concatMap(handle).then())
              : consumer.start("stuck", List.of(topic), handle::apply);
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> failures.get() >= 5);
        // The stuck partition's backlog has been fetched by now; only then does the other one get
        // traffic.
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> gauge(meters, "citadel_consumer_paused_partitions", "stuck") == 1);
        try (KafkaProducer<String, byte[]> raw = rawProducer()) {
          for (int i = 0; i < 20; i++) {
            raw.send(record(topic, 1, i));
          }
          raw.flush();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> otherPartition.size() == 20);
        assertThat(stuckPartition).isEmpty();
        // The pause held: the consumer fetched the other partition's records since, not the rest
        // of the stuck one's backlog (a pause asked for and not made would hold all 3,000).
        assertThat(gauge(meters, "citadel_consumer_records_held", "stuck")).isLessThan(2_000);

        databaseAway.set(false);
        await().atMost(Duration.ofSeconds(60)).until(() -> stuckPartition.size() >= BACKLOG);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> gauge(meters, "citadel_consumer_paused_partitions", "stuck") == 0);
      } finally {
        running.dispose();
      }
    }
    // Waiting changed nothing in the stuck partition's order, and nothing went twice.
    assertThat(stuckPartition).hasSize(BACKLOG).isSorted().doesNotHaveDuplicates();
    assertThat(otherPartition).hasSize(20).isSorted();
  }

  /**
   * A partition taken away by a rebalance while its records wait in this consumer: the new owner
   * starts from the last commit, so what this one still held is not its to handle any more. Before
   * the consumer dropped them at the revoke, the old owner went on with up to a thousand records
   * the new owner handled too (twice each, and two instances at once on one key's messages).
   */
  @org.junit.jupiter.api.Test
  void records_held_for_a_partition_taken_away_are_left_to_its_new_owner() throws Exception {
    String topic = "moved.test";
    int backlog = 2_000;
    admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get();
    KafkaTopics.awaitLeaders(admin, List.of(topic), Duration.ofSeconds(30));
    try (KafkaProducer<String, byte[]> raw = rawProducer()) {
      for (int i = 0; i < backlog; i++) {
        raw.send(record(topic, 0, i));
        raw.send(record(topic, 1, i));
      }
      raw.flush();
    }
    AtomicBoolean databaseAway = new AtomicBoolean(true);
    Map<String, AtomicInteger> failures = new java.util.concurrent.ConcurrentHashMap<>();
    List<String> handled = new CopyOnWriteArrayList<>();
    Function<String, MessageHandler> instance =
        name ->
            m -> {
              if (databaseAway.get()) {
                failures
                    .computeIfAbsent(name + "-" + m.partition(), k -> new AtomicInteger())
                    .incrementAndGet();
                return Mono.error(new IllegalStateException("database is away"));
              }
              handled.add(m.partition() + "@" + new String(m.value(), StandardCharsets.UTF_8));
              return Mono.empty();
            };
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      Disposable first =
          new ReactorKafkaConsumer(settings, publisher)
              .start("moved", List.of(topic), instance.apply("first"));
      Disposable second = null;
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> failures.containsKey("first-0") && failures.containsKey("first-1"));
        second =
            new ReactorKafkaConsumer(settings, publisher)
                .start("moved", List.of(topic), instance.apply("second"));
        // The second instance tries its partition only once the rebalance took it from the first.
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> failures.keySet().stream().anyMatch(k -> k.startsWith("second")));
        databaseAway.set(false);
        try {
          await()
              .atMost(Duration.ofSeconds(60))
              .until(() -> new java.util.HashSet<>(handled).size() == 2 * backlog);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          throw new AssertionError(missing(handled, backlog, "moved"), e);
        }
      } finally {
        first.dispose();
        if (second != null) {
          second.dispose();
        }
      }
    }
    assertThat(handled).hasSize(2 * backlog).doesNotHaveDuplicates();
  }

  /**
   * What a wait for every record found missing, per partition (first, last, how many), beside the
   * group's committed offsets and members: a commit past records never handled, or a partition that
   * stopped.
   */
  static String missing(List<String> handled, int backlog, String group) {
    java.util.Set<String> seen = new java.util.HashSet<>(handled);
    StringBuilder out = new StringBuilder("records never handled:");
    for (int partition = 0; partition < 2; partition++) {
      List<Integer> gone = new java.util.ArrayList<>();
      for (int i = 0; i < backlog; i++) {
        if (!seen.contains(partition + "@" + i)) {
          gone.add(i);
        }
      }
      out.append(
          gone.isEmpty()
              ? String.format(" partition %d none;", partition)
              : String.format(
                  " partition %d %d (%d..%d);",
                  partition, gone.size(), gone.get(0), gone.get(gone.size() - 1)));
    }
    try {
      out.append(" committed: ")
          .append(
              admin
                  .listConsumerGroupOffsets(group)
                  .partitionsToOffsetAndMetadata()
                  .get(10, java.util.concurrent.TimeUnit.SECONDS))
          .append("; group: ")
          .append(
              admin
                  .describeConsumerGroups(List.of(group))
                  .all()
                  .get(10, java.util.concurrent.TimeUnit.SECONDS));
    } catch (Exception e) {
      out.append(" (the group could not be read: ").append(e).append(')');
    }
    return out.toString();
  }

  /**
   * A paused partition that a rebalance takes away and gives straight back (another member joined
   * the group for another topic). Its pause must follow the partition's own state, not linger:
   * reactor-kafka restores a pause it saw made on the new assignment, and a resume asked for while
   * the partition was not assigned is skipped, so it could stay paused for good.
   */
  @org.junit.jupiter.api.Test
  void a_paused_partition_given_back_by_a_rebalance_goes_on_when_it_can() throws Exception {
    String topic = "given-back.test";
    String other = "given-back.other";
    admin
        .createTopics(List.of(new NewTopic(topic, 1, (short) 1), new NewTopic(other, 1, (short) 1)))
        .all()
        .get();
    KafkaTopics.awaitLeaders(admin, List.of(topic, other), Duration.ofSeconds(30));
    try (KafkaProducer<String, byte[]> raw = rawProducer()) {
      for (int i = 0; i < BACKLOG; i++) {
        raw.send(record(topic, 0, i));
      }
      raw.send(record(other, 0, 0));
      raw.flush();
    }
    AtomicBoolean databaseAway = new AtomicBoolean(true);
    AtomicInteger failures = new AtomicInteger();
    List<Integer> handled = new CopyOnWriteArrayList<>();
    List<Integer> otherHandled = new CopyOnWriteArrayList<>();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      Disposable first =
          new ReactorKafkaConsumer(settings, publisher, meters)
              .start(
                  "given-back",
                  List.of(topic),
                  m -> {
                    if (databaseAway.get()) {
                      failures.incrementAndGet();
                      return Mono.error(new IllegalStateException("database is away"));
                    }
                    handled.add(Integer.parseInt(new String(m.value(), StandardCharsets.UTF_8)));
                    return Mono.empty();
                  });
      Disposable second = null;
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> gauge(meters, "citadel_consumer_paused_partitions", "given-back") == 1);
        second =
            new ReactorKafkaConsumer(settings, publisher)
                .start(
                    "given-back",
                    List.of(other),
                    m -> Mono.fromRunnable(() -> otherHandled.add(1)));
        // The second member has its topic: the group has rebalanced (the first kept its own).
        await().atMost(Duration.ofSeconds(60)).until(() -> otherHandled.size() == 1);
        databaseAway.set(false);
        await().atMost(Duration.ofSeconds(60)).until(() -> handled.size() >= BACKLOG);
      } finally {
        first.dispose();
        if (second != null) {
          second.dispose();
        }
      }
    }
    assertThat(handled).hasSize(BACKLOG).isSorted();
  }

  private static double gauge(SimpleMeterRegistry meters, String name, String group) {
    return meters.get(name).tag("group", group).gauge().value();
  }

  private static ProducerRecord<String, byte[]> record(String topic, int partition, int seq) {
    return new ProducerRecord<>(
        topic, partition, "key-" + partition, String.valueOf(seq).getBytes(StandardCharsets.UTF_8));
  }

  private static KafkaProducer<String, byte[]> rawProducer() {
    return new KafkaProducer<>(
        Map.of("bootstrap.servers", cluster.endpoint().bootstrapServers()),
        new StringSerializer(),
        new ByteArraySerializer());
  }
}
