package dev.citadel.messaging.kafka;

import dev.citadel.messaging.BatchHandler;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.messaging.MessageHandler;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.Unprocessable;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
 * a crash replays at most the unacknowledged tail.
 *
 * <p>A failing handler is retried with a capped back-off ({@code handlerBackoff} doubling up to
 * {@code handlerMaxBackoff}) for as long as it fails: that partition waits, later messages with the
 * same key keep their order, and nothing is lost to a database blip or a held player. Only a
 * message the handler calls {@link Unprocessable} (it can never be parsed, or is invalid) goes to
 * {@code <topic>.dlq} with the error, counted in {@code citadel_dead_letters_total}; if even that
 * publish fails the consumer restarts from the last commit, so nothing is skipped silently. Retries
 * are counted in {@code citadel_consumer_retries_total} (an alert watches both).
 */
public final class ReactorKafkaConsumer implements MessageConsumer {
  private static final Logger log = LoggerFactory.getLogger(ReactorKafkaConsumer.class);
  public static final String DEAD_LETTER_SUFFIX = ".dlq";
  public static final String ERROR_HEADER = "dlq-error";
  public static final String ORIGIN_HEADER = "dlq-origin";
  public static final String NULL_KEY_HEADER = "dlq-null-key";
  public static final String NULL_VALUE_HEADER = "dlq-null-value";

  private final KafkaSettings settings;
  private final MessagePublisher deadLetters;
  private final MeterRegistry meters;
  private final MeterRegistry counters;

  public ReactorKafkaConsumer(KafkaSettings settings, MessagePublisher deadLetters) {
    this(settings, deadLetters, null);
  }

  /**
   * @param meters where the Kafka client's own metrics go (consumer lag as {@code
   *     kafka_consumer_fetch_manager_records_lag_max}, fetch rates, ...) and our retry and
   *     dead-letter counters, or null for none
   */
  public ReactorKafkaConsumer(
      KafkaSettings settings, MessagePublisher deadLetters, MeterRegistry meters) {
    this.settings = settings;
    this.deadLetters = deadLetters;
    this.meters = meters;
    this.counters = meters != null ? meters : new SimpleMeterRegistry();
  }

  @Override
  public Disposable start(String groupId, List<String> topics, MessageHandler handler) {
    return consume(
        groupId,
        topics,
        partition -> partition.concatMap(r -> handleThenAcknowledge(groupId, handler, r)));
  }

  @Override
  public Disposable startBatched(
      String groupId, List<String> topics, int maxBatch, BatchHandler handler) {
    return consume(
        groupId,
        topics,
        // Whatever arrived while the previous batch was handled goes next, up to the limit.
        partition ->
            Batches.of(
                partition,
                maxBatch,
                records -> handleBatchThenAcknowledge(groupId, handler, records)));
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
            // On a rebalance, wait this long (not reactor-kafka's 60 s) for records in flight to
            // be acknowledged; what is not is handled again by the new owner (handlers are
            // idempotent), so a partition stuck retrying cannot stall the whole group for long.
            .maxDelayRebalance(java.time.Duration.ofSeconds(5))
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
      String groupId, BatchHandler handler, List<ReceiverRecord<String, byte[]>> records) {
    if (records.size() == 1 || records.stream().anyMatch(r -> malformed(r) != null)) {
      // A record without a key or value is dead-lettered alone; the others keep their order.
      return Flux.fromIterable(records).concatMap(r -> single(groupId, handler, r)).then();
    }
    List<IncomingMessage> messages = records.stream().map(ReactorKafkaConsumer::toMessage).toList();
    String where = records.get(0).topic() + "-" + records.get(0).partition();
    Mono<Void> whole =
        Mono.defer(() -> handler.handle(messages))
            .retryWhen(untilProcessed(groupId, records.get(0).topic(), where))
            .then(Mono.fromRunnable(() -> records.forEach(r -> r.receiverOffset().acknowledge())));
    // Only an unprocessable message fails the batch for good: find it, one message at a time.
    return whole.onErrorResume(
        e -> {
          log.warn(
              "batch of {} on {} has an unprocessable message: one by one", records.size(), where);
          return Flux.fromIterable(records).concatMap(r -> single(groupId, handler, r)).then();
        });
  }

  private Mono<Void> single(
      String groupId, BatchHandler handler, ReceiverRecord<String, byte[]> record) {
    return handleThenAcknowledge(groupId, m -> handler.handle(List.of(m)), record);
  }

  private Mono<Void> handleThenAcknowledge(
      String groupId, MessageHandler handler, ReceiverRecord<String, byte[]> record) {
    IncomingMessage message = toMessage(record);
    String where = message.topic() + "-" + message.partition() + "@" + message.offset();
    String malformed = malformed(record);
    if (malformed != null) {
      // Never handed to a handler (which would fail on it, and be retried, for ever).
      return deadLetter(message, new Unprocessable(malformed))
          .then(Mono.fromRunnable(() -> record.receiverOffset().acknowledge()));
    }
    return Mono.defer(() -> handler.handle(message))
        .retryWhen(untilProcessed(groupId, message.topic(), where))
        .onErrorResume(e -> deadLetter(message, e))
        .then(Mono.fromRunnable(() -> record.receiverOffset().acknowledge()));
  }

  /**
   * Retries every failure but {@link Unprocessable}, with a capped back-off, for as long as it
   * takes; the first retry and then every tenth is logged, each is counted.
   */
  private Retry untilProcessed(String groupId, String topic, String where) {
    Counter retries =
        Counter.builder("citadel_consumer_retries")
            .description("Handler failures retried (a transient error: the partition waits)")
            .tag("group", groupId)
            .tag("topic", topic)
            .register(counters);
    return Retry.backoff(Long.MAX_VALUE, settings.handlerBackoff())
        .maxBackoff(settings.handlerMaxBackoff())
        .filter(e -> !Unprocessable.in(e))
        .doBeforeRetry(
            s -> {
              retries.increment();
              if (s.totalRetries() % 10 == 0) {
                log.warn(
                    "{} in group {} failed ({} retries so far), retrying: {}",
                    where,
                    groupId,
                    s.totalRetries() + 1,
                    String.valueOf(s.failure()));
              }
            });
  }

  /**
   * Why a record can never reach a handler, or null. Every message we publish has a key and a value
   * ({@link OutgoingMessage}); a record without one (a tombstone, another producer's mistake) is
   * dead-lettered as it is.
   */
  private static String malformed(ReceiverRecord<String, byte[]> r) {
    if (r.value() == null) {
      return "record has no value (a tombstone?)";
    }
    if (r.key() == null) {
      return "record has no key";
    }
    return null;
  }

  private Mono<Void> deadLetter(IncomingMessage message, Throwable error) {
    Throwable cause = error.getCause() != null ? error.getCause() : error;
    log.error(
        "{}-{}@{} can never be handled, dead-lettering: {}",
        message.topic(),
        message.partition(),
        message.offset(),
        error.getMessage(),
        cause);
    Map<String, String> headers = new HashMap<>(message.headers());
    headers.put(ERROR_HEADER, String.valueOf(error.getMessage()));
    headers.put(
        ORIGIN_HEADER, message.topic() + "-" + message.partition() + "@" + message.offset());
    // A record without a key or value: an empty one in the letter, and a header saying so (a
    // replay sends it back as it came, to be set aside again).
    if (message.key() == null) {
      headers.put(NULL_KEY_HEADER, "true");
    }
    if (message.value() == null) {
      headers.put(NULL_VALUE_HEADER, "true");
    }
    return Mono.defer(
            () ->
                deadLetters.publish(
                    new OutgoingMessage(
                        message.topic() + DEAD_LETTER_SUFFIX,
                        message.key() != null ? message.key() : "",
                        message.value() != null ? message.value() : new byte[0],
                        headers)))
        .doOnSuccess(
            d ->
                Counter.builder("citadel_dead_letters")
                    .description("Messages set aside as unprocessable, by origin topic")
                    .tag("topic", message.topic())
                    .register(counters)
                    .increment())
        .then();
  }

  private static IncomingMessage toMessage(ReceiverRecord<String, byte[]> r) {
    Map<String, String> headers = new HashMap<>();
    for (Header h : r.headers()) {
      // A header without a value (legal in Kafka) reads as empty rather than failing the record.
      headers.put(h.key(), h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
    }
    return new IncomingMessage(
        r.topic(), r.partition(), r.offset(), r.key(), r.value(), Map.copyOf(headers));
  }
}
