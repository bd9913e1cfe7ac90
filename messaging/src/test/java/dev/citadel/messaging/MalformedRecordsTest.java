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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Records our publisher never writes, written by a plain producer: no value (a tombstone), no key,
 * a header without a value. Before the consumer checked them, the first two reached the handler
 * (which failed on them and was retried for ever, holding up the partition) and the third failed
 * the consumer itself (restarted from the last commit for ever, holding up every partition).
 */
class MalformedRecordsTest {
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
        KafkaSettings.defaults(cluster.endpoint().bootstrapServers(), "malformed-test")
            .withHandlerBackoff(Duration.ofMillis(20), Duration.ofMillis(200));
  }

  @AfterAll
  static void stopCluster() {
    admin.close();
    cluster.close();
  }

  @Test
  void records_without_key_or_value_are_dead_lettered_and_the_partition_goes_on() throws Exception {
    String topic = "malformed.test";
    admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
    KafkaTopics.awaitLeaders(admin, List.of(topic), Duration.ofSeconds(30));
    try (KafkaProducer<String, byte[]> raw = rawProducer()) {
      raw.send(record(topic, "a", "0", 0)).get();
      raw.send(record(topic, "a", null, 1)).get();
      raw.send(record(topic, null, "2", 2)).get();
      ProducerRecord<String, byte[]> emptyHeader = record(topic, "a", "3", 3);
      emptyHeader.headers().add(new RecordHeader("empty", (byte[]) null));
      raw.send(emptyHeader).get();
      raw.send(record(topic, "a", "4", 4)).get();
    }
    List<String> single = new CopyOnWriteArrayList<>();
    List<String> batched = new CopyOnWriteArrayList<>();
    List<String> deadLettered = new CopyOnWriteArrayList<>();
    try (MessagePublisher publisher = new ReactorKafkaPublisher(settings)) {
      ReactorKafkaConsumer consumer = new ReactorKafkaConsumer(settings, publisher);
      // Handlers as ours are written: they read the key and the value without asking.
      Disposable one =
          consumer.start(
              "one-by-one", List.of(topic), m -> Mono.fromRunnable(() -> single.add(describe(m))));
      Disposable many =
          consumer.startBatched(
              "batched",
              List.of(topic),
              100,
              batch -> Mono.fromRunnable(() -> batch.forEach(m -> batched.add(describe(m)))));
      Disposable dlq =
          consumer.start(
              "dlq-reader",
              List.of(topic + ReactorKafkaConsumer.DEAD_LETTER_SUFFIX),
              m ->
                  Mono.fromRunnable(
                      () ->
                          deadLettered.add(
                              m.headers().get("seq")
                                  + " "
                                  + m.headers().get(ReactorKafkaConsumer.ERROR_HEADER)
                                  + " "
                                  + m.headers().keySet().stream()
                                      .filter(h -> h.startsWith("dlq-null"))
                                      .toList())));
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> single.size() == 3 && batched.size() == 3 && deadLettered.size() == 4);
      } finally {
        one.dispose();
        many.dispose();
        dlq.dispose();
      }
    }
    List<String> expected = List.of("a=0 {seq=0}", "a=3 {empty=, seq=3}", "a=4 {seq=4}");
    assertThat(single).isEqualTo(expected);
    assertThat(batched).isEqualTo(expected);
    // Each group sets both aside once.
    assertThat(deadLettered)
        .containsExactlyInAnyOrder(
            "1 record has no value (a tombstone?) [dlq-null-value]",
            "1 record has no value (a tombstone?) [dlq-null-value]",
            "2 record has no key [dlq-null-key]",
            "2 record has no key [dlq-null-key]");
  }

  private static String describe(IncomingMessage m) {
    String value = new String(m.value(), StandardCharsets.UTF_8);
    return m.key().toString() + "=" + value + " " + new java.util.TreeMap<>(m.headers());
  }

  private static ProducerRecord<String, byte[]> record(
      String topic, String key, String value, int seq) {
    ProducerRecord<String, byte[]> r =
        new ProducerRecord<>(
            topic, 0, key, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    r.headers().add("seq", String.valueOf(seq).getBytes(StandardCharsets.UTF_8));
    return r;
  }

  private static KafkaProducer<String, byte[]> rawProducer() {
    return new KafkaProducer<>(
        Map.of("bootstrap.servers", cluster.endpoint().bootstrapServers()),
        new StringSerializer(),
        new ByteArraySerializer());
  }
}
