package dev.citadel.infra.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The dead-letters command against a real broker: list, replay once, list again. */
class DeadLettersTest {
  static KafkaCluster kafka;

  @BeforeAll
  static void start() {
    kafka = KafkaCluster.startLocal(1);
  }

  @AfterAll
  static void stop() {
    kafka.close();
  }

  @Test
  void waiting_letters_are_listed_replayed_to_their_origin_once_and_then_gone() throws Exception {
    String bootstrap = kafka.endpoint().bootstrapServers();
    try (KafkaProducer<String, String> producer = producer(bootstrap)) {
      for (int i = 0; i < 3; i++) {
        ProducerRecord<String, String> r =
            new ProducerRecord<>("orders.dlq", "player-" + i, "payload-" + i);
        r.headers().add("dlq-error", ("not parseable " + i).getBytes(StandardCharsets.UTF_8));
        r.headers().add("dlq-origin", ("orders-0@" + i).getBytes(StandardCharsets.UTF_8));
        r.headers().add("trace", ("t" + i).getBytes(StandardCharsets.UTF_8));
        producer.send(r).get();
      }
    }

    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    int status = DeadLetters.run(List.of("list"), bootstrap, new PrintStream(printed, true));
    assertThat(status).isEqualTo(3);
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("3 dead letter(s) waiting")
        .contains("orders-0@1")
        .contains("not parseable 2");

    assertThat(DeadLetters.run(List.of("replay", "orders"), bootstrap, System.out)).isZero();
    List<ConsumerRecord<String, String>> replayed = readAll(bootstrap, "orders", 3);
    assertThat(replayed)
        .extracting(ConsumerRecord::key)
        .containsExactlyInAnyOrder("player-0", "player-1", "player-2");
    ConsumerRecord<String, String> one =
        replayed.stream().filter(r -> r.key().equals("player-1")).findFirst().orElseThrow();
    assertThat(one.value()).isEqualTo("payload-1");
    assertThat(new String(one.headers().lastHeader("trace").value(), StandardCharsets.UTF_8))
        .isEqualTo("t1");
    assertThat(one.headers().lastHeader("dlq-error")).isNull();

    try (DeadLetters letters = new DeadLetters(bootstrap)) {
      assertThat(letters.waiting(null)).isEmpty();
      assertThat(letters.replay(null)).isZero(); // nothing is sent twice
    }
    assertThat(DeadLetters.run(List.of("list"), bootstrap, System.out)).isZero();
  }

  /**
   * A record that had no key or no value was set aside with an empty one and a header saying so; a
   * replay sends it back as it came (a handler must never take an empty value for a message), and a
   * header without a value (legal in Kafka) does not break the listing.
   */
  @Test
  void letters_of_records_without_key_or_value_are_replayed_without_them() throws Exception {
    String bootstrap = kafka.endpoint().bootstrapServers();
    try (KafkaProducer<String, String> producer = producer(bootstrap)) {
      ProducerRecord<String, String> noValue = new ProducerRecord<>("tombs.dlq", "player-1", "");
      noValue.headers().add("dlq-null-value", "true".getBytes(StandardCharsets.UTF_8));
      noValue.headers().add("trace", null);
      producer.send(noValue).get();
      ProducerRecord<String, String> noKey = new ProducerRecord<>("tombs.dlq", "", "payload");
      noKey.headers().add("dlq-null-key", "true".getBytes(StandardCharsets.UTF_8));
      producer.send(noKey).get();
    }
    try (DeadLetters letters = new DeadLetters(bootstrap)) {
      assertThat(letters.waiting("tombs")).hasSize(2);
      assertThat(letters.replay("tombs")).isEqualTo(2);
    }
    List<ConsumerRecord<String, String>> replayed = readAll(bootstrap, "tombs", 2);
    assertThat(replayed)
        .extracting(r -> r.key() + "=" + r.value())
        .containsExactlyInAnyOrder("player-1=null", "null=payload");
  }

  /**
   * A letter the consumer could only send without its value (too large) is never replayed as an
   * empty message (a handler would take it for one): the replay names it and goes on.
   */
  @Test
  void a_letter_sent_without_its_value_is_named_not_replayed() throws Exception {
    String bootstrap = kafka.endpoint().bootstrapServers();
    try (KafkaProducer<String, String> producer = producer(bootstrap)) {
      ProducerRecord<String, String> omitted = new ProducerRecord<>("big.dlq", "player-1", "");
      omitted.headers().add("dlq-origin", "big-0@4".getBytes(StandardCharsets.UTF_8));
      omitted.headers().add("dlq-value-omitted", "2000000 bytes".getBytes(StandardCharsets.UTF_8));
      producer.send(omitted).get();
      ProducerRecord<String, String> whole = new ProducerRecord<>("big.dlq", "player-1", "small");
      whole.headers().add("dlq-origin", "big-0@5".getBytes(StandardCharsets.UTF_8));
      producer.send(whole).get();
    }
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    assertThat(DeadLetters.run(List.of("replay", "big"), bootstrap, new PrintStream(printed, true)))
        .as("a letter not replayed: status 3")
        .isEqualTo(3);
    assertThat(printed.toString(StandardCharsets.UTF_8))
        .contains("1 dead letter(s) replayed")
        .contains("not replayed")
        .contains("big-0@4");
    // One key, so one partition and in order: had the first been sent, it would be read first.
    assertThat(readAll(bootstrap, "big", 1))
        .extracting(r -> r.key() + "=" + r.value())
        .containsExactly("player-1=small");
    assertThat(DeadLetters.run(List.of("list", "big"), bootstrap, System.out))
        .as("both marked: named once, not again at every replay")
        .isZero();
  }

  private static KafkaProducer<String, String> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    return new KafkaProducer<>(p);
  }

  private static List<ConsumerRecord<String, String>> readAll(
      String bootstrap, String topic, int expected) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    List<ConsumerRecord<String, String>> records = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
      List<TopicPartition> all =
          consumer.partitionsFor(topic).stream()
              .map(i -> new TopicPartition(topic, i.partition()))
              .toList();
      consumer.assign(all);
      consumer.seekToBeginning(all);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (records.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(records::add);
      }
    }
    return records;
  }
}
