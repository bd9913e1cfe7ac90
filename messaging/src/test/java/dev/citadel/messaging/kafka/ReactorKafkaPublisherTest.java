package dev.citadel.messaging.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.messaging.Delivery;
import dev.citadel.messaging.OutgoingMessage;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class ReactorKafkaPublisherTest {

  /**
   * A batch with one message Kafka refuses (larger than the producer may send) fails only once the
   * others have their outcome, and they are delivered: failing at the first refusal while the rest
   * were still in the producer let a caller act as if none was sent (an outbox round gave its lease
   * up, and the next owner's newer records could land before them).
   */
  @Test
  void a_batch_fails_only_once_every_message_has_its_outcome() throws Exception {
    try (dev.citadel.infra.kafka.KafkaCluster cluster =
            dev.citadel.infra.kafka.KafkaCluster.startLocal(1);
        org.apache.kafka.clients.admin.Admin admin =
            org.apache.kafka.clients.admin.Admin.create(
                java.util.Map.of("bootstrap.servers", cluster.endpoint().bootstrapServers()))) {
      String topic = "publish.all.test";
      admin
          .createTopics(
              java.util.List.of(new org.apache.kafka.clients.admin.NewTopic(topic, 1, (short) 1)))
          .all()
          .get();
      KafkaTopics.awaitLeaders(admin, java.util.List.of(topic), Duration.ofSeconds(30));
      ReactorKafkaPublisher publisher =
          new ReactorKafkaPublisher(
              KafkaSettings.defaults(cluster.endpoint().bootstrapServers(), "publish-all"));
      try {
        // Warmed first: the topic's metadata known, the refusal below is the producer's at once.
        publisher.publish(new OutgoingMessage(topic, "k", new byte[] {0})).block();
        java.util.List<OutgoingMessage> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 50; i++) {
          batch.add(new OutgoingMessage(topic, "k", new byte[] {(byte) i}));
          if (i == 0) {
            batch.add(new OutgoingMessage(topic, "k", new byte[2 * 1024 * 1024]));
          }
        }
        java.util.List<reactor.core.publisher.Signal<Delivery>> signals =
            publisher
                .publishAll(reactor.core.publisher.Flux.fromIterable(batch))
                .materialize()
                .collectList()
                .block(Duration.ofSeconds(60));
        assertThat(signals).hasSize(51);
        assertThat(signals.subList(0, 50)).allMatch(reactor.core.publisher.Signal::isOnNext);
        assertThat(signals.get(50).getThrowable())
            .isInstanceOf(org.apache.kafka.common.errors.RecordTooLargeException.class);
      } finally {
        publisher.close();
      }
    }
  }

  /**
   * With no broker to answer, {@code KafkaProducer.send} waits for the topic's metadata (up to
   * {@code max.block.ms}; 5 s here). Were that call made on the caller's thread, subscribing would
   * return only after the wait, with the send failed: the publish would be done by then. The first
   * publish creates the producer (reactor-kafka does that on a thread of its own and answers every
   * publish that comes meanwhile from there), so the one after it shows where sends run.
   */
  @Test
  void a_publish_never_blocks_the_caller_while_kafka_cannot_be_reached() throws IOException {
    String nobody;
    try (ServerSocket s = new ServerSocket(0)) {
      nobody = "127.0.0.1:" + s.getLocalPort();
    }
    ReactorKafkaPublisher publisher =
        new ReactorKafkaPublisher(
            KafkaSettings.defaults(nobody, "unreachable").withMaxBlock(Duration.ofSeconds(5)));
    try {
      CompletableFuture<Delivery> first =
          publisher.publish(new OutgoingMessage("t", "k", new byte[] {1})).toFuture();
      await().atMost(Duration.ofSeconds(30)).until(first::isDone);
      assertThat(first).isCompletedExceptionally();

      CompletableFuture<Delivery> second =
          publisher.publish(new OutgoingMessage("t", "k", new byte[] {2})).toFuture();

      assertThat(second).isNotDone();
      await().atMost(Duration.ofSeconds(30)).until(second::isDone);
      assertThat(second).isCompletedExceptionally();
    } finally {
      publisher.close();
    }
  }
}
