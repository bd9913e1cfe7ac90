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
