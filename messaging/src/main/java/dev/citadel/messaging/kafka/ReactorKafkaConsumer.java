package dev.citadel.messaging.kafka;

import dev.citadel.messaging.BatchHandler;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.messaging.MessageHandler;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.kafka.common.header.Header;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.MicrometerConsumerListener;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverRecord;
import reactor.util.retry.Retry;

/**
 * {@link MessageConsumer} on reactor-kafka's {@link KafkaReceiver}.
 *
 * <p>Per partition the records go through {@code concatMap}: handler, then acknowledge. Only
 * acknowledged offsets are committed (every {@code commitInterval}, and on rebalance or close), so
 * a crash replays at most the unacknowledged tail. A handler that keeps failing after {@code
 * handlerAttempts} sends the message to {@code <topic>.dlq} with the error, then moves on; if even
 * that fails the consumer restarts from the last commit, so nothing is skipped silently.
 */
public final class ReactorKafkaConsumer implements MessageConsumer {
  private static final Logger log = LoggerFactory.getLogger(ReactorKafkaConsumer.class);
  public static final String DEAD_LETTER_SUFFIX = ".dlq";
  private static final Duration BATCH_LINGER = Duration.ofMillis(2);

  private final KafkaSettings settings;
  private final MessagePublisher deadLetters;
  private final MeterRegistry meters;

  public ReactorKafkaConsumer(KafkaSettings settings, MessagePublisher deadLetters) {
    this(settings, deadLetters, null);
  }

  /**
   * @param meters where the Kafka client's own metrics go (consumer lag as {@code
   *     kafka_consumer_fetch_manager_records_lag_max}, fetch rates, ...), or null for none
   */
  public ReactorKafkaConsumer(
      KafkaSettings settings, MessagePublisher deadLetters, MeterRegistry meters) {
    this.settings = settings;
    this.deadLetters = deadLetters;
    this.meters = meters;
  }

  @Override
  public Disposable start(String groupId, List<String> topics, MessageHandler handler) {
    return consume(
        groupId, topics, partition -> partition.concatMap(r -> handleThenAcknowledge(handler, r)));
  }

  @Override
  public Disposable startBatched(
      String groupId, List<String> topics, int maxBatch, BatchHandler handler) {
    return consume(
        groupId,
        topics,
        partition ->
            partition
                // Whatever arrived while the previous batch was handled goes next, up to the
                // limit; the short timeout only closes a batch that is still filling up.
                .bufferTimeout(maxBatch, BATCH_LINGER, true)
                .concatMap(records -> handleBatchThenAcknowledge(handler, records)));
  }

  /** Receives, splits by partition (handled in parallel) and restarts from the last commit. */
  private Disposable consume(
      String groupId,
      List<String> topics,
      Function<Flux<ReceiverRecord<String, byte[]>>, Publisher<Void>> perPartition) {
    ReceiverOptions<String, byte[]> options =
        ReceiverOptions.<String, byte[]>create(settings.consumerProperties(groupId))
            .subscription(topics)
            .commitInterval(settings.commitInterval())
            .commitBatchSize(0);
    if (meters != null) {
      options = options.consumerListener(new MicrometerConsumerListener(meters));
    }
    return KafkaReceiver.create(options)
        .receive()
        .groupBy(r -> r.receiverOffset().topicPartition())
        .flatMap(perPartition::apply, Integer.MAX_VALUE)
        .retryWhen(
            Retry.backoff(Long.MAX_VALUE, Duration.ofMillis(500))
                .maxBackoff(Duration.ofSeconds(10))
                .doBeforeRetry(s -> log.warn("consumer {} restarts: {}", groupId, s.failure())))
        .subscribe();
  }

  private Mono<Void> handleBatchThenAcknowledge(
      BatchHandler handler, List<ReceiverRecord<String, byte[]>> records) {
    if (records.size() == 1) {
      return single(handler, records.get(0));
    }
    List<IncomingMessage> messages = records.stream().map(ReactorKafkaConsumer::toMessage).toList();
    Mono<Void> whole =
        Mono.defer(() -> handler.handle(messages))
            .retryWhen(
                Retry.backoff(
                    Math.max(0, settings.handlerAttempts() - 1), settings.handlerBackoff()))
            .then(Mono.fromRunnable(() -> records.forEach(r -> r.receiverOffset().acknowledge())));
    // Find the bad message: one at a time, each with its own retries and dead letter.
    return whole.onErrorResume(
        e -> {
          log.warn("batch of {} failed, handling its messages one by one", records.size(), e);
          return Flux.fromIterable(records).concatMap(r -> single(handler, r)).then();
        });
  }

  private Mono<Void> single(BatchHandler handler, ReceiverRecord<String, byte[]> record) {
    return handleThenAcknowledge(m -> handler.handle(List.of(m)), record);
  }

  private Mono<Void> handleThenAcknowledge(
      MessageHandler handler, ReceiverRecord<String, byte[]> record) {
    IncomingMessage message = toMessage(record);
    return Mono.defer(() -> handler.handle(message))
        .retryWhen(
            Retry.backoff(Math.max(0, settings.handlerAttempts() - 1), settings.handlerBackoff()))
        .onErrorResume(e -> deadLetter(message, e))
        .then(Mono.fromRunnable(() -> record.receiverOffset().acknowledge()));
  }

  private Mono<Void> deadLetter(IncomingMessage message, Throwable error) {
    Throwable cause = error.getCause() != null ? error.getCause() : error;
    log.error(
        "giving up on {}-{}@{} after {} attempts, dead-lettering",
        message.topic(),
        message.partition(),
        message.offset(),
        settings.handlerAttempts(),
        cause);
    Map<String, String> headers = new HashMap<>(message.headers());
    headers.put("dlq-error", String.valueOf(cause));
    headers.put("dlq-origin", message.topic() + "-" + message.partition() + "@" + message.offset());
    return deadLetters
        .publish(
            new OutgoingMessage(
                message.topic() + DEAD_LETTER_SUFFIX, message.key(), message.value(), headers))
        .then();
  }

  private static IncomingMessage toMessage(ReceiverRecord<String, byte[]> r) {
    Map<String, String> headers = new HashMap<>();
    for (Header h : r.headers()) {
      headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
    }
    return new IncomingMessage(
        r.topic(), r.partition(), r.offset(), r.key(), r.value(), Map.copyOf(headers));
  }
}
