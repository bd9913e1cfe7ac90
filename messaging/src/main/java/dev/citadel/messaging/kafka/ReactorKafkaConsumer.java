package dev.citadel.messaging.kafka;

import dev.citadel.messaging.BatchHandler;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.messaging.MessageHandler;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.Unprocessable;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import org.apache.kafka.common.TopicPartition;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.kafka.receiver.KafkaReceiver;
import reactor.kafka.receiver.MicrometerConsumerListener;
import reactor.kafka.receiver.ReceiverOptions;
import reactor.kafka.receiver.ReceiverPartition;
import reactor.kafka.receiver.ReceiverRecord;
import reactor.util.retry.Retry;

/**
 * {@link MessageConsumer} on reactor-kafka's {@link KafkaReceiver}. Per partition the records go
 * through {@code concatMap}: handler, then acknowledge. Only acknowledged offsets are committed
 * (every {@code commitInterval}, and on rebalance or close), so a crash replays at most the
 * unacknowledged tail.
 *
 * <p>A failing handler is retried with a capped back-off ({@code handlerBackoff} doubling up to
 * {@code handlerMaxBackoff}) for as long as it fails: that partition waits, later messages with the
 * same key keep their order, and nothing is lost to a database blip or a held player. Only a
 * message the handler calls {@link Unprocessable} (it can never be parsed, or is invalid) goes to
 * {@code <topic>.dlq} with the error, counted in {@code citadel_dead_letters_total}; if even that
 * publish fails the consumer restarts from the last commit, so nothing is skipped silently. Retries
 * are counted in {@code citadel_consumer_retries_total} (an alert watches both).
 *
 * <p>Only that partition waits: a partition with {@link #PAUSE_AT} records held is paused ({@link
 * PartitionFlows}). A partition a rebalance takes away is left to its new owner at once: what is
 * held of it is dropped unhandled, and a record being retried is not tried again here.
 */
public final class ReactorKafkaConsumer implements MessageConsumer {
  private static final Logger log = LoggerFactory.getLogger(ReactorKafkaConsumer.class);
  public static final String DEAD_LETTER_SUFFIX = ".dlq";
  public static final String ERROR_HEADER = "dlq-error";
  public static final String ORIGIN_HEADER = "dlq-origin";
  public static final String NULL_KEY_HEADER = "dlq-null-key";
  public static final String NULL_VALUE_HEADER = "dlq-null-value";

  /**
   * Records of one partition held (received, not yet handled) at which its fetching pauses, two
   * polls' worth ({@code max.poll.records} is 500: a partition that keeps up never pauses), and at
   * which it resumes, with a poll's worth left.
   */
  static final int PAUSE_AT = 1_000, RESUME_AT = 500;

  private final KafkaSettings settings;
  private final DeadLetters deadLetters;
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
    this.meters = meters;
    this.counters = meters != null ? meters : new SimpleMeterRegistry();
    this.deadLetters = new DeadLetters(deadLetters, counters);
  }

  @Override
  public Disposable start(String groupId, List<String> topics, MessageHandler handler) {
    return consume(
        groupId,
        topics,
        (partition, flows) ->
            partition.concatMap(held -> handleThenAcknowledge(groupId, handler, held, flows)));
  }

  @Override
  public Disposable startBatched(
      String groupId, List<String> topics, int maxBatch, BatchHandler handler) {
    return consume(
        groupId,
        topics,
        // Whatever arrived while the previous batch was handled goes next, up to the limit.
        (partition, flows) ->
            Batches.of(
                partition,
                maxBatch,
                held -> handleBatchThenAcknowledge(groupId, handler, held, flows)));
  }

  /**
   * Receives, splits by partition (handled in parallel) and restarts from the last commit. Takes
   * every record it is given: a partition with {@link #PAUSE_AT} records waiting is paused instead
   * ({@link PartitionFlows}), so one stuck partition never holds up the others.
   */
  private Disposable consume(
      String groupId,
      List<String> topics,
      BiFunction<Flux<Held>, PartitionFlows, Publisher<Void>> perPartition) {
    ConsumerGauges gauges = gauges(groupId);
    ConsumerRestarts restarts =
        new ConsumerRestarts(
            groupId,
            System::nanoTime,
            () -> java.util.concurrent.ThreadLocalRandom.current().nextDouble());
    // Everything per subscription: a restart (below) gets a new consumer, and no listener or
    // pause of the old one may reach the new one's flows.
    return Flux.defer(
            () -> {
              restarts.started();
              AtomicReference<PartitionFlows> current = new AtomicReference<>();
              ReceiverOptions<String, byte[]> options =
                  ReceiverOptions.<String, byte[]>create(settings.consumerProperties(groupId))
                      .subscription(topics)
                      .commitInterval(settings.commitInterval())
                      // No wait at a rebalance for records in flight: what is held of a partition
                      // taken away is left to its new owner at once (below); only the one record
                      // or batch being handled then may be handled by both (handlers are
                      // idempotent). Waiting would wait the whole delay at every rebalance once any
                      // record was left (reactor-kafka counts it in flight for ever).
                      .maxDelayRebalance(Duration.ZERO)
                      .addRevokeListener(revoked -> current.get().revoked(partitionsOf(revoked)))
                      .addAssignListener(assigned -> current.get().assigned(partitionsOf(assigned)))
                      .commitBatchSize(0);
              if (meters != null) {
                options = options.consumerListener(new MicrometerConsumerListener(meters));
              }
              KafkaReceiver<String, byte[]> receiver = KafkaReceiver.create(options);
              PartitionFlows flows =
                  new PartitionFlows(
                      PAUSE_AT,
                      RESUME_AT,
                      PartitionFlows.switchOn(receiver, groupId),
                      gauges.paused(),
                      gauges.held());
              current.set(flows);
              return taggedWhereReceived(
                      receiver.receive(),
                      r -> new Held(r, flows.received(r.receiverOffset().topicPartition())))
                  // Unbounded: PartitionFlows bounds what is held, per partition.
                  .groupBy(Held::partition, Integer.MAX_VALUE)
                  .flatMap(partition -> perPartition.apply(partition, flows), Integer.MAX_VALUE)
                  .doFinally(signal -> flows.close());
            })
        .retryWhen(restarts.retry())
        .subscribe();
  }

  /**
   * Each record tagged (with its partition's turn) on the thread that emits it: reactor-kafka's
   * consumer thread, before its next poll, where a revoke happens, so a record fetched before a
   * revoke is never taken for after it. Everything is asked for once and no later request passes
   * up: a handler thread asking for more (groupBy replenishes as records are handled) would
   * otherwise run reactor-kafka's drain, and the tagging, itself, so a record could be tagged after
   * a revoke it was fetched before: handled, and its offset committed past records of the old turn
   * that the new owner then never gets.
   */
  static <R, T> Flux<T> taggedWhereReceived(
      Flux<R> received, java.util.function.Function<R, T> tag) {
    return received.map(tag).onBackpressureBuffer();
  }

  private static List<TopicPartition> partitionsOf(Collection<ReceiverPartition> partitions) {
    return partitions.stream().map(ReceiverPartition::topicPartition).toList();
  }

  private ConsumerGauges gauges(String groupId) {
    return ConsumerGauges.of(counters, groupId);
  }

  private Mono<Void> handleBatchThenAcknowledge(
      String groupId, BatchHandler handler, List<Held> held, PartitionFlows flows) {
    // Records of a partition taken away and given back since they came: the new turn has them.
    List<Held> ours = held.stream().filter(h -> flows.owned(h.partition(), h.turn())).toList();
    if (ours.size() < held.size()) {
      flows.handled(held.get(0).partition(), held.size() - ours.size());
    }
    if (ours.isEmpty()) {
      return Mono.empty();
    }
    if (ours.size() == 1 || ours.stream().anyMatch(h -> Records.malformed(h.record()) != null)) {
      // A record without a key or value is dead-lettered alone; the others keep their order.
      return Flux.fromIterable(ours).concatMap(h -> single(groupId, handler, h, flows)).then();
    }
    List<IncomingMessage> messages = ours.stream().map(h -> Records.toMessage(h.record())).toList();
    Held first = ours.get(0);
    String where = first.record().topic() + "-" + first.record().partition();
    Mono<Void> whole =
        Mono.defer(() -> whileOwned(first, flows, () -> handler.handle(messages)))
            .retryWhen(untilProcessed(groupId, first.record().topic(), where))
            .then(Mono.fromRunnable(() -> ours.forEach(h -> done(h, flows))));
    return whole
        .onErrorResume(
            PartitionFlows.Revoked.class,
            e -> Mono.fromRunnable(() -> flows.handled(first.partition(), ours.size())))
        // Only an unprocessable message fails the batch for good: find it, one message at a time.
        .onErrorResume(
            e -> {
              log.warn(
                  "batch of {} on {} has an unprocessable message: one by one", ours.size(), where);
              return Flux.fromIterable(ours)
                  .concatMap(h -> single(groupId, handler, h, flows))
                  .then();
            });
  }

  private Mono<Void> single(String groupId, BatchHandler handler, Held held, PartitionFlows flows) {
    return handleThenAcknowledge(groupId, m -> handler.handle(List.of(m)), held, flows);
  }

  /**
   * Handled (or set aside): it no longer counts as waiting, and its offset may be committed while
   * its partition is still this consumer's. One that finished after a rebalance took the partition
   * away is not acknowledged: committed later from here, its offset could move the new owner's
   * commits back ({@link PartitionFlows#acknowledge}: decided on the consumer's thread).
   */
  private static void done(Held held, PartitionFlows flows) {
    flows.acknowledge(
        held.partition(), held.turn(), () -> held.record().receiverOffset().acknowledge());
    flows.handled(held.partition(), 1);
  }

  /**
   * The handler's work, while the record's partition is still this consumer's: once a rebalance
   * took it away, not even a retry runs here (the new owner starts from the last commit, in order).
   */
  private static Mono<Void> whileOwned(
      Held held, PartitionFlows flows, java.util.function.Supplier<Mono<Void>> work) {
    return flows.owned(held.partition(), held.turn())
        ? work.get()
        : Mono.error(new PartitionFlows.Revoked());
  }

  private Mono<Void> handleThenAcknowledge(
      String groupId, MessageHandler handler, Held held, PartitionFlows flows) {
    ReceiverRecord<String, byte[]> record = held.record();
    IncomingMessage message = Records.toMessage(record);
    String where = message.topic() + "-" + message.partition() + "@" + message.offset();
    String malformed = Records.malformed(record);
    Mono<Void> handled =
        malformed != null
            // Never handed to a handler (which would fail on it, and be retried, for ever).
            ? Mono.defer(
                () ->
                    whileOwned(
                        held,
                        flows,
                        () -> deadLetters.setAside(message, new Unprocessable(malformed))))
            : Mono.defer(() -> whileOwned(held, flows, () -> handler.handle(message)))
                .retryWhen(untilProcessed(groupId, message.topic(), where))
                .onErrorResume(
                    e -> !(e instanceof PartitionFlows.Revoked),
                    // Set aside by its owner only: one letter, not one from each.
                    e -> whileOwned(held, flows, () -> deadLetters.setAside(message, e)));
    return handled
        .then(Mono.<Void>fromRunnable(() -> done(held, flows)))
        .onErrorResume(
            PartitionFlows.Revoked.class,
            e -> Mono.<Void>fromRunnable(() -> flows.handled(held.partition(), 1)));
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
        .filter(e -> !(e instanceof PartitionFlows.Revoked) && !Unprocessable.in(e))
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

  /** A record received, with its partition's turn of ownership then ({@link PartitionFlows}). */
  private record Held(ReceiverRecord<String, byte[]> record, long turn) {
    TopicPartition partition() {
      return record.receiverOffset().topicPartition();
    }
  }
}
