package dev.citadel.messaging.kafka;

import dev.citadel.messaging.Delivery;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.kafka.sender.KafkaSender;
import reactor.kafka.sender.SenderOptions;
import reactor.kafka.sender.SenderRecord;
import reactor.kafka.sender.SenderResult;

/**
 * {@link MessagePublisher} on reactor-kafka's {@link KafkaSender}. A publish never runs {@code
 * KafkaProducer.send} on the caller's thread (reactor-kafka hands records to the producer on a
 * thread of its own): that call can block for {@code max.block.ms} while Kafka is away or the
 * producer's buffer is full, and callers publish from event loops. {@code
 * ReactorKafkaPublisherTest} holds any replacement to that.
 */
public final class ReactorKafkaPublisher implements MessagePublisher {
  private final KafkaSender<String, byte[]> sender;

  public ReactorKafkaPublisher(KafkaSettings settings) {
    SenderOptions<String, byte[]> options =
        SenderOptions.<String, byte[]>create(settings.producerProperties())
            .maxInFlight(1024)
            .stopOnError(false);
    this.sender = KafkaSender.create(options);
  }

  @Override
  public Mono<Delivery> publish(OutgoingMessage message) {
    return publishAll(Flux.just(message)).single();
  }

  /**
   * Fails only once every message has its outcome (the first failure is the error): failing at the
   * first while the rest were still in the producer let a caller act as if they were not sent (an
   * outbox round gave its lease up, and the next owner's newer records could land before them).
   */
  @Override
  public Flux<Delivery> publishAll(Flux<OutgoingMessage> messages) {
    return Flux.defer(
        () -> {
          java.util.concurrent.atomic.AtomicReference<Exception> failed =
              new java.util.concurrent.atomic.AtomicReference<>();
          return sender
              .send(messages.map(m -> SenderRecord.create(toRecord(m), (Void) null)))
              .handle(
                  (SenderResult<Void> result,
                      reactor.core.publisher.SynchronousSink<Delivery> sink) -> {
                    if (result.exception() != null) {
                      failed.compareAndSet(null, result.exception());
                    } else {
                      sink.next(
                          new Delivery(
                              result.recordMetadata().topic(),
                              result.recordMetadata().partition(),
                              result.recordMetadata().offset()));
                    }
                  })
              .concatWith(
                  Mono.defer(() -> failed.get() == null ? Mono.empty() : Mono.error(failed.get())));
        });
  }

  private static ProducerRecord<String, byte[]> toRecord(OutgoingMessage m) {
    List<Header> headers = new ArrayList<>(m.headers().size());
    m.headers()
        .forEach((k, v) -> headers.add(new RecordHeader(k, v.getBytes(StandardCharsets.UTF_8))));
    return new ProducerRecord<>(m.topic(), null, m.key(), m.value(), headers);
  }

  @Override
  public void close() {
    sender.close();
  }
}
