package dev.citadel.messaging.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Creates a service's topics (and their dead-letter topics) before it produces or consumes, with
 * the cluster's default partitions and replication. Relying on auto-creation is a race: the first
 * idempotent sends to a topic the broker is still creating can loop on OUT_OF_ORDER_SEQUENCE_NUMBER
 * until the delivery timeout, stalling whatever waits for them.
 */
public final class KafkaTopics {
  private KafkaTopics() {}

  /**
   * Blocks until every topic is known to the broker the admin asks and every partition has a
   * leader. A created topic is only known to the controller at first; brokers learn of it a moment
   * later, and asking one before that answers UnknownTopicOrPartition.
   */
  public static void awaitLeaders(Admin admin, Collection<String> topics, Duration timeout)
      throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        var described = admin.describeTopics(topics).allTopicNames().get(10, TimeUnit.SECONDS);
        boolean ready =
            described.values().stream()
                .flatMap(d -> d.partitions().stream())
                .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
        if (ready) {
          return;
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw new IllegalStateException("cannot describe topics " + topics, e.getCause());
        }
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("topics have no leaders yet: " + topics);
      }
      Thread.sleep(50);
    }
  }

  /** Blocks until every topic exists (created now or before) and has leaders. */
  public static void ensure(KafkaSettings settings, Collection<String> topics) {
    List<NewTopic> wanted = new ArrayList<>();
    for (String topic : topics) {
      wanted.add(new NewTopic(topic, Optional.empty(), Optional.empty()));
      if (!topic.endsWith(ReactorKafkaConsumer.DEAD_LETTER_SUFFIX)) {
        wanted.add(
            new NewTopic(
                topic + ReactorKafkaConsumer.DEAD_LETTER_SUFFIX,
                Optional.empty(),
                Optional.empty()));
      }
    }
    Properties props = new Properties();
    props.putAll(settings.commonProperties());
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, settings.clientId() + "-admin");
    try (Admin admin = Admin.create(props)) {
      var results = admin.createTopics(wanted).values();
      for (var entry : results.entrySet()) {
        try {
          entry.getValue().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("cannot create topic " + entry.getKey(), e.getCause());
          }
        }
      }
      awaitLeaders(admin, wanted.stream().map(NewTopic::name).toList(), Duration.ofSeconds(60));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (TimeoutException e) {
      throw new IllegalStateException("Kafka did not create the topics in time: " + topics, e);
    }
  }
}
