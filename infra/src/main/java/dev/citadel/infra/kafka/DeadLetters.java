package dev.citadel.infra.kafka;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The dead-letter topics ({@code <topic>.dlq}): lists the letters not handled yet and replays them
 * to the topic they came from. A letter counts as handled once replayed: the consumer group {@value
 * #GROUP} keeps how far each dead-letter topic was replayed, so a replay never sends a letter twice
 * and the list shows only what is still waiting.
 *
 * <p>Only messages a consumer could never handle get here (they cannot be parsed, or are invalid):
 * replay them after deploying the fix that makes them handleable.
 */
public final class DeadLetters implements AutoCloseable {
  public static final String SUFFIX = ".dlq";
  public static final String GROUP = "citadel.dead-letters";
  static final String ORIGIN_HEADER = "dlq-origin";
  static final String ERROR_HEADER = "dlq-error";

  /**
   * Set by the consumer on a letter of a record that had no key (or value): empty in the letter.
   */
  static final String NULL_KEY_HEADER = "dlq-null-key";

  static final String NULL_VALUE_HEADER = "dlq-null-value";

  /**
   * Set by the consumer on a letter it could only send without the record's value (too large for
   * the producer): never replayed (its empty value is no message), to be read at its origin.
   */
  static final String VALUE_OMITTED_HEADER = "dlq-value-omitted";

  /** A dead letter waiting, and where it came from. */
  public record Letter(
      String topic,
      int partition,
      long offset,
      String key,
      String origin,
      String error,
      Instant at,
      byte[] value,
      Map<String, String> headers) {
    /** The topic the message was consumed from: the dead-letter topic without its suffix. */
    public String originTopic() {
      return topic.substring(0, topic.length() - SUFFIX.length());
    }

    /** Sent without the record's value (too large): it can only be read at its origin. */
    public boolean valueOmitted() {
      return headers.containsKey(VALUE_OMITTED_HEADER);
    }
  }

  private final Admin admin;
  private final Properties common;

  public DeadLetters(String bootstrapServers) {
    this.common = new Properties();
    common.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    this.admin = Admin.create(common);
  }

  /** Every dead-letter topic in the cluster. */
  public Set<String> topics() {
    try {
      return admin.listTopics().names().get().stream()
          .filter(t -> t.endsWith(SUFFIX))
          .collect(Collectors.toCollection(java.util.TreeSet::new));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot list the topics: " + e.getCause(), e);
    }
  }

  /** The letters not replayed yet, in every dead-letter topic (or only {@code onlyTopic}). */
  public List<Letter> waiting(String onlyTopic) {
    List<Letter> letters = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = consumer()) {
      for (String topic : selected(onlyTopic)) {
        letters.addAll(read(consumer, topic));
      }
    }
    return letters;
  }

  /**
   * Publishes every waiting letter (of every topic, or only {@code onlyTopic}) to its origin topic
   * with its key, value and original headers, then marks it replayed. Returns how many were sent. A
   * letter sent without its value is not sent and fails the replay (see the two-argument form).
   */
  public int replay(String onlyTopic) {
    return replay(
        onlyTopic,
        letter -> {
          throw new IllegalStateException(
              letter.topic() + " from " + letter.origin() + " was sent without its value");
        });
  }

  /**
   * The same; a letter sent without its value is not replayed (an empty value is no message) but
   * handed to {@code notReplayable}, and marked like the others.
   */
  public int replay(String onlyTopic, java.util.function.Consumer<Letter> notReplayable) {
    int sent = 0;
    try (KafkaConsumer<String, byte[]> consumer = consumer();
        KafkaProducer<String, byte[]> producer = producer()) {
      for (String topic : selected(onlyTopic)) {
        List<Letter> letters = read(consumer, topic);
        for (Letter letter : letters) {
          if (letter.valueOmitted()) {
            notReplayable.accept(letter);
            continue;
          }
          // As it came: a record that had no key or value gets none again (and is set aside
          // again by the consumer), never an empty one a handler would take for a message.
          ProducerRecord<String, byte[]> record =
              new ProducerRecord<>(
                  letter.originTopic(),
                  letter.headers().containsKey(NULL_KEY_HEADER) ? null : letter.key(),
                  letter.headers().containsKey(NULL_VALUE_HEADER) ? null : letter.value());
          letter.headers().entrySet().stream()
              .filter(h -> !h.getKey().startsWith("dlq-"))
              .forEach(h -> record.headers().add(h.getKey(), bytes(h.getValue())));
          record.headers().add("replayed-from", bytes(letter.origin()));
          producer.send(record).get(); // one at a time: the order of a key is kept
          sent++;
        }
        // Replayed up to the end of what was read: mark it, per partition.
        Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
        for (Letter letter : letters) {
          done.merge(
              new TopicPartition(letter.topic(), letter.partition()),
              new OffsetAndMetadata(letter.offset() + 1),
              (a, b) -> a.offset() >= b.offset() ? a : b);
        }
        if (!done.isEmpty()) {
          consumer.commitSync(done);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("replay failed after " + sent + ": " + e.getCause(), e);
    }
    return sent;
  }

  private Collection<String> selected(String onlyTopic) {
    Set<String> all = topics();
    if (onlyTopic == null) {
      return all;
    }
    String topic = onlyTopic.endsWith(SUFFIX) ? onlyTopic : onlyTopic + SUFFIX;
    return all.contains(topic) ? List.of(topic) : List.of();
  }

  /** From the replayed mark (or the start) to the end of each partition, as it is now. */
  private List<Letter> read(KafkaConsumer<String, byte[]> consumer, String topic) {
    List<TopicPartition> partitions =
        consumer.partitionsFor(topic).stream()
            .map(p -> new TopicPartition(topic, p.partition()))
            .toList();
    consumer.assign(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    Map<TopicPartition, OffsetAndMetadata> marks = consumer.committed(Set.copyOf(partitions));
    Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions);
    List<TopicPartition> open = new ArrayList<>();
    for (TopicPartition tp : partitions) {
      OffsetAndMetadata mark = marks.get(tp);
      long from = Math.max(begin.get(tp), mark == null ? 0 : mark.offset());
      if (from < end.get(tp)) {
        consumer.seek(tp, from);
        open.add(tp);
      }
    }
    List<Letter> letters = new ArrayList<>();
    Map<TopicPartition, Long> position = new HashMap<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (open.stream().anyMatch(tp -> position.getOrDefault(tp, -1L) + 1 < end.get(tp))) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("could not read " + topic + " to its end in 30 s");
      }
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
        if (r.offset() >= end.get(tp)) {
          continue; // arrived after we started: the next run gets it
        }
        position.put(tp, r.offset());
        letters.add(letter(r));
      }
    }
    return letters;
  }

  private static Letter letter(ConsumerRecord<String, byte[]> r) {
    Map<String, String> headers = new HashMap<>();
    for (Header h : r.headers()) {
      headers.put(h.key(), h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
    }
    return new Letter(
        r.topic(),
        r.partition(),
        r.offset(),
        r.key(),
        headers.getOrDefault(ORIGIN_HEADER, "?"),
        headers.getOrDefault(ERROR_HEADER, "?"),
        Instant.ofEpochMilli(r.timestamp()),
        r.value(),
        Map.copyOf(headers));
  }

  private KafkaConsumer<String, byte[]> consumer() {
    Properties p = new Properties();
    p.putAll(common);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    return new KafkaConsumer<>(p);
  }

  private KafkaProducer<String, byte[]> producer() {
    Properties p = new Properties();
    p.putAll(common);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    return new KafkaProducer<>(p);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    admin.close();
  }

  /**
   * {@code dead-letters [--bootstrap host:port] list|replay [topic]}; without {@code --bootstrap},
   * the Kafka of the local platform running from this directory. Exit status 0; {@code list} exits
   * 3 when letters are waiting (for scripts).
   */
  public static int run(List<String> args, String defaultBootstrap, PrintStream out) {
    List<String> rest = new ArrayList<>(args);
    String bootstrap = defaultBootstrap;
    int at = rest.indexOf("--bootstrap");
    if (at >= 0 && at + 1 < rest.size()) {
      bootstrap = rest.get(at + 1);
      rest.remove(at + 1);
      rest.remove(at);
    }
    String command = rest.isEmpty() ? "list" : rest.get(0);
    String topic = rest.size() > 1 ? rest.get(1) : null;
    if (bootstrap == null) {
      out.println("no Kafka: start the platform (./run-local.sh) or pass --bootstrap host:port");
      return 2;
    }
    try (DeadLetters letters = new DeadLetters(bootstrap)) {
      switch (command) {
        case "list" -> {
          List<Letter> waiting = letters.waiting(topic);
          out.printf("%d dead letter(s) waiting%n", waiting.size());
          for (Letter l : waiting) {
            out.printf(
                "  %s  from %s  key %s  at %s%s%n    %s%n",
                l.topic(),
                l.origin(),
                l.key(),
                l.at(),
                l.valueOmitted() ? "  (sent without its value: too large)" : "",
                l.error());
          }
          return waiting.isEmpty() ? 0 : 3;
        }
        case "replay" -> {
          // Each named as it is met (it is marked with its topic's letters, before the next
          // topic: a failure later must not lose its name), and the status says so (3).
          int[] notReplayed = {0};
          int sent =
              letters.replay(
                  topic,
                  l -> {
                    notReplayed[0]++;
                    out.printf(
                        "  not replayed, sent without its value (too large): %s from %s; read it"
                            + " at its origin while that topic keeps it%n",
                        l.topic(), l.origin());
                  });
          out.printf("%d dead letter(s) replayed%n", sent);
          return notReplayed[0] == 0 ? 0 : 3;
        }
        default -> {
          out.println("usage: dead-letters [--bootstrap host:port] list|replay [topic]");
          return 2;
        }
      }
    }
  }
}
