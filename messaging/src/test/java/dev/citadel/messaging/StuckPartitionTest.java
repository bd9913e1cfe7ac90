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
                  batch ->
                      batch.stream().map(handle).reduce(Mono.empty(), (a, b) -> a.then(b)).then())
              : consumer.start("stuck", List.of(topic), handle::apply);
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> failures.get() >= 5);
        // The stuck partition's backlog has been fetched by now; only then does the other one get
        // traffic.
        await()
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    meters
                            .get("citadel_consumer_paused_partitions")
                            .tag("group", "stuck")
                            .gauge()
                            .value()
                        == 1);
        try (KafkaProducer<String, byte[]> raw = rawProducer()) {
          for (int i = 0; i < 20; i++) {
            raw.send(record(topic, 1, i));
          }
          raw.flush();
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> otherPartition.size() == 20);
        assertThat(stuckPartition).isEmpty();

        databaseAway.set(false);
        await().atMost(Duration.ofSeconds(60)).until(() -> stuckPartition.size() >= BACKLOG);
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    meters
                            .get("citadel_consumer_paused_partitions")
                            .tag("group", "stuck")
                            .gauge()
                            .value()
                        == 0);
      } finally {
        running.dispose();
      }
    }
    // Waiting changed nothing in the stuck partition's order, and nothing went twice.
    assertThat(stuckPartition).hasSize(BACKLOG).isSorted().doesNotHaveDuplicates();
    assertThat(otherPartition).hasSize(20).isSorted();
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
