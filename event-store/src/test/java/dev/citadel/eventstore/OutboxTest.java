package dev.citadel.eventstore;

import static dev.citadel.eventstore.StoreFixture.append;
import static dev.citadel.eventstore.StoreFixture.newId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.eventstore.outbox.OutboxPublisher;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.kafka.KafkaEndpoint;
import dev.citadel.messaging.Delivery;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@CitadelInfra
class OutboxTest {
  static StoreFixture fixture;
  static KafkaSettings kafka;
  static MessagePublisher publisher;

  @BeforeAll
  static void setUp(KafkaEndpoint endpoint) {
    fixture = new StoreFixture("outbox_test");
    kafka = KafkaSettings.defaults(endpoint.bootstrapServers(), "outbox-test");
    // As the services do: never let the first idempotent sends race the topic's auto-creation.
    KafkaTopics.ensure(kafka, List.of("game.events.outbox-test", "game.events.retention-test"));
    publisher = new ReactorKafkaPublisher(kafka);
  }

  @AfterAll
  static void tearDown() {
    publisher.close();
  }

  /** Publishes the first {@code budget} messages, then fails as a crashing process would. */
  static final class CrashingPublisher implements MessagePublisher {
    private final MessagePublisher delegate;
    private final AtomicInteger budget;

    CrashingPublisher(MessagePublisher delegate, int budget) {
      this.delegate = delegate;
      this.budget = new AtomicInteger(budget);
    }

    @Override
    public Mono<Delivery> publish(OutgoingMessage message) {
      return publishAll(Flux.just(message)).single();
    }

    @Override
    public Flux<Delivery> publishAll(Flux<OutgoingMessage> messages) {
      return messages.concatMap(
          m ->
              budget.getAndDecrement() > 0
                  ? delegate.publish(m)
                  : Mono.error(new IllegalStateException("publisher crashed")));
    }

    @Override
    public void close() {}
  }

  @Test
  void every_event_reaches_kafka_at_least_once_in_order_per_aggregate_across_a_crash() {
    String topic = "game.events.outbox-test";
    PostgresEventStore store = fixture.store(EventStoreOptions.defaults().withOutbox("crash-test"));
    Map<String, Long> versions = new ConcurrentHashMap<>();
    List<String> ids = IntStream.range(0, 20).mapToObj(i -> newId()).toList();
    appendRandomly(store, ids, versions, 600, new Random(7));

    // First publisher: publishes 250 messages, then "crashes" inside a round.
    OutboxPublisher crashing =
        new OutboxPublisher(
            fixture.pool,
            new CrashingPublisher(publisher, 250),
            "crash-test",
            topic,
            100,
            Duration.ofMillis(20),
            new SimpleMeterRegistry());
    crashing.register().block();
    List<Integer> rounds = new ArrayList<>();
    Throwable crash = null;
    try {
      while (true) {
        rounds.add(crashing.publishRound().block());
      }
    } catch (IllegalStateException e) {
      crash = e;
    }
    assertThat(crash).hasMessageContaining("publisher crashed");
    assertThat(rounds).containsExactly(100, 100); // the third round died half-way

    // Restart with a healthy publisher, while commands keep appending.
    OutboxPublisher restarted =
        new OutboxPublisher(
            fixture.pool,
            publisher,
            "crash-test",
            topic,
            100,
            Duration.ofMillis(20),
            new SimpleMeterRegistry());
    Disposable running = restarted.start();
    Map<String, List<Long>> received = new ConcurrentHashMap<>();
    Disposable consumer =
        new ReactorKafkaConsumer(kafka, publisher)
            .start(
                "outbox-test-reader",
                List.of(topic),
                m -> {
                  EventEnvelope e = parse(m.value());
                  received
                      .computeIfAbsent(e.getAggregateId(), k -> new CopyOnWriteArrayList<>())
                      .add(e.getSeq());
                  return Mono.empty();
                });
    try {
      appendRandomly(store, ids, versions, 400, new Random(8));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  ids.stream()
                      .allMatch(
                          id ->
                              new LinkedHashSet<>(received.getOrDefault(id, List.of())).size()
                                  == versions.getOrDefault(id, 0L)));
    } finally {
      running.dispose();
      consumer.dispose();
    }

    for (String id : ids) {
      List<Long> firstSeen = new ArrayList<>(new LinkedHashSet<>(received.get(id)));
      assertThat(firstSeen)
          .as("events of %s in order, none missing", id)
          .isEqualTo(LongStreamRange.closed(1, versions.get(id)));
    }
    // The crashed round was published again: at least once, never less.
    assertThat(received.values().stream().mapToInt(List::size).sum()).isGreaterThan(1000);
  }

  @Test
  void retention_never_deletes_events_the_outbox_has_not_published() {
    PostgresEventStore store =
        fixture.store(
            EventStoreOptions.defaults()
                .withOutbox("retention-test")
                .withPolicy("counter", new SnapshotPolicy(10, true, 1)));
    OutboxPublisher outbox =
        new OutboxPublisher(
            fixture.pool,
            publisher,
            "retention-test",
            "game.events.retention-test",
            1000,
            Duration.ofMillis(20),
            new SimpleMeterRegistry());
    outbox.register().block();
    String id = newId();
    store.append(append(id, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)).block();
    store.saveSnapshot(PostgresEventStoreTest.snapshot(id, 10, 10)).block();

    assertThat(store.readStream(id).collectList().block()).as("unpublished: all kept").hasSize(10);

    while (outbox.publishRound().block() > 0) {
      // publish until caught up
    }
    store.append(append(id, 10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1)).block();
    store.saveSnapshot(PostgresEventStoreTest.snapshot(id, 20, 20)).block();

    // Events 1..10 were published and are covered: gone. 11..20 are covered but unpublished: kept.
    assertThat(store.readStream(id).collectList().block())
        .extracting(StoredEvent::seq)
        .containsExactly(11L, 12L, 13L, 14L, 15L, 16L, 17L, 18L, 19L, 20L);
    assertThat(store.load(id).block().version()).isEqualTo(20);
  }

  private static void appendRandomly(
      PostgresEventStore store,
      List<String> ids,
      Map<String, Long> versions,
      int events,
      Random r) {
    int appended = 0;
    while (appended < events) {
      List<AppendRequest> round = new ArrayList<>();
      for (String id : ids) {
        long[] amounts = r.longs(1 + r.nextInt(3), 0, 9).toArray();
        round.add(append(id, versions.getOrDefault(id, 0L), amounts));
        appended += amounts.length;
      }
      Flux.fromIterable(round)
          .flatMap(
              req -> store.append(req).doOnNext(a -> versions.put(a.aggregateId(), a.version())))
          .blockLast();
    }
  }

  private static EventEnvelope parse(byte[] bytes) {
    try {
      return EventEnvelope.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static final class LongStreamRange {
    static List<Long> closed(long from, long to) {
      return java.util.stream.LongStream.rangeClosed(from, to).boxed().toList();
    }
  }
}
