package dev.citadel.match.presence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.queue.Cancelled;
import dev.citadel.match.queue.Enqueued;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.Delivery;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.member.v1.PresenceChanged;
import dev.citadel.protocol.member.v1.PresenceStatus;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.connection.stream.StreamRecords;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Flux;

/**
 * Presence changes go from the queue scripts to Redis's presence stream and from there to Kafka,
 * against real Redis and Kafka: in Redis's order whatever the replicas' clocks, and nothing lost
 * when a send fails.
 */
@CitadelInfra
class PresenceRelayTest {
  static LettuceConnectionFactory connections;
  static ReactiveStringRedisTemplate redis;
  static ReactorKafkaPublisher kafka;
  static KafkaSettings settings;

  @BeforeAll
  static void connect() {
    connections =
        new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    connections.afterPropertiesSet();
    connections.start();
    redis = new ReactiveStringRedisTemplate(connections);
    settings = KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "presence-test");
    kafka = new ReactorKafkaPublisher(settings);
  }

  @AfterAll
  static void close() {
    kafka.close();
    connections.destroy();
  }

  /** Fails its first send the way a broker outage does, then sends for real. */
  static final class FailingOnce implements MessagePublisher {
    final AtomicBoolean failed = new AtomicBoolean();

    @Override
    public reactor.core.publisher.Mono<Delivery> publish(OutgoingMessage message) {
      return publishAll(Flux.just(message)).next();
    }

    @Override
    public Flux<Delivery> publishAll(Flux<OutgoingMessage> messages) {
      if (failed.compareAndSet(false, true)) {
        return Flux.error(new org.apache.kafka.common.errors.TimeoutException("injected"));
      }
      return kafka.publishAll(messages);
    }

    @Override
    public void close() {}
  }

  @Test
  void a_replica_30_s_behind_cannot_reorder_a_players_changes_and_a_failed_send_loses_nothing() {
    String topic = "player.presence.relay-test-" + UUID.randomUUID();
    KafkaTopics.ensure(settings, List.of(topic));
    // Its own stream: a service context cached by another test class relays the default one.
    String stream = "{mq}:presence-test-" + UUID.randomUUID();
    Queues queues = new Queues(redis, List.of(), stream);
    String queue = "presence";
    String player = "presence-" + UUID.randomUUID();
    long now = System.currentTimeMillis();

    // Replica A (its clock right) queues the player; replica B (30 s behind) takes them out again.
    assertThat(queues.enqueue(queue, List.of(new Ticket(player, 1500, 0, "p")), now).block())
        .containsExactly(Enqueued.OK);
    assertThat(queues.cancel(queue, player).block()).isEqualTo(Cancelled.CANCELLED);
    assertThat(
            queues.enqueue(queue, List.of(new Ticket(player, 1500, 0, "p")), now - 30_000).block())
        .containsExactly(Enqueued.OK);
    assertThat(queues.cancel(queue, player).block()).isEqualTo(Cancelled.CANCELLED);

    FailingOnce flaky = new FailingOnce();
    PresenceRelay relay =
        new PresenceRelay(
            redis, flaky, stream, topic, Duration.ofSeconds(5), new SimpleMeterRegistry());
    try {
      relay.relay().block();
    } catch (RuntimeException expected) {
      // the injected send failure: nothing may be trimmed
    }
    assertThat(flaky.failed).isTrue();
    assertThat(redis.opsForStream().size(stream).block()).as("kept until sent").isEqualTo(4);

    assertThat(relay.relay().block()).isEqualTo(4);
    assertThat(redis.opsForStream().size(stream).block()).isZero();

    List<PresenceChanged> changes = read(topic, 4);
    assertThat(changes)
        .extracting(PresenceChanged::getStatus)
        .containsExactly(
            PresenceStatus.QUEUED,
            PresenceStatus.LOBBY,
            PresenceStatus.QUEUED,
            PresenceStatus.LOBBY);
    for (int i = 1; i < changes.size(); i++) {
      assertThat(changes.get(i).getSequence())
          .as("Redis's order, not the replicas' clocks")
          .isGreaterThan(changes.get(i - 1).getSequence());
    }
    assertThat(changes).allSatisfy(c -> assertThat(c.getPlayerId()).isEqualTo(player));
    redis.delete(stream).block();
  }

  /**
   * An entry that is no presence change (a status a newer version wrote during a rolling update) is
   * counted and taken off unsent; every round used to fail on it, and no presence moved again.
   */
  @Test
  void an_entry_that_is_no_presence_change_is_set_aside_and_the_rest_moves() {
    String topic = "player.presence.unreadable-" + UUID.randomUUID();
    KafkaTopics.ensure(settings, List.of(topic));
    String stream = "{mq}:presence-test-" + UUID.randomUUID();
    redis.opsForStream().add(stream, Map.of("p", "x", "s", "AWAY", "m", "")).block();
    redis.opsForStream().add(stream, Map.of("p", "y", "s", "LOBBY", "m", "")).block();
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    PresenceRelay relay =
        new PresenceRelay(redis, kafka, stream, topic, Duration.ofSeconds(5), meters);
    try {
      assertThat(relay.relay().block()).isEqualTo(2);
      assertThat(redis.opsForStream().size(stream).block()).isZero();
      assertThat(read(topic, 1))
          .singleElement()
          .extracting(PresenceChanged::getPlayerId)
          .isEqualTo("y");
      assertThat(meters.get("citadel_presence_unreadable").counter().count()).isEqualTo(1.0);
    } finally {
      redis.delete(stream).block();
    }
  }

  @Test
  void only_the_replica_holding_the_lock_relays() {
    String stream = "{mq}:presence-test-" + UUID.randomUUID();
    PresenceRelay a =
        new PresenceRelay(
            redis,
            kafka,
            stream,
            "player.presence.unused",
            Duration.ofSeconds(5),
            new SimpleMeterRegistry());
    PresenceRelay b =
        new PresenceRelay(
            redis,
            kafka,
            stream,
            "player.presence.unused",
            Duration.ofSeconds(5),
            new SimpleMeterRegistry());
    KafkaTopics.ensure(settings, List.of("player.presence.unused"));
    a.relay().block();
    redis.opsForStream().add(stream, Map.of("p", "x", "s", "LOBBY", "m", "")).block();

    assertThat(b.relay().block()).as("a holds the lock").isZero();
    assertThat(a.relay().block()).isGreaterThanOrEqualTo(1);
    redis.delete(stream).block();
  }

  @Test
  void relayed_changes_are_trimmed_later_ones_kept_and_nothing_goes_once_the_stream_moved() {
    String stream = "{mq}:presence-test-" + UUID.randomUUID();
    try {
      addWithIds(stream, "1-1", "2-1", "3-1", "4-1", "5-1", "6-1");
      // A relay read the first two: they go, the later ones (added after its read) stay.
      assertThat(trim(stream, List.of("1-1", "2-1"))).isEqualTo(2);
      assertThat(ids(stream)).containsExactly("3-1", "4-1", "5-1", "6-1");
      assertThat(trim(stream, List.of("3-1"))).as("a batch of one").isEqualTo(1);
      // A relay whose read began at an entry that is gone (another relay trimmed it, or the
      // stream was lost and begun again) takes nothing, though the stream holds enough entries.
      assertThat(trim(stream, List.of("1-1", "5-1"))).isZero();
      assertThat(ids(stream)).containsExactly("4-1", "5-1", "6-1");
      assertThat(trim(stream + "-none", List.of("4-1"))).isZero();
    } finally {
      redis.delete(stream).block();
    }
  }

  @Test
  void nothing_goes_when_the_stream_lost_its_newest_entries_and_began_again() {
    // A relay read 1-1, 3-1 and 4-1; Redis came back without 3-1 and 4-1 (a restore from a file a
    // second old, a replica behind) with its clock behind them, and new changes got ids before,
    // among or on the ones read: trimming the oldest three would take changes never sent.
    String stream = "{mq}:presence-test-" + UUID.randomUUID();
    List<String> read = List.of("1-1", "3-1", "4-1");
    try {
      addWithIds(stream, "1-1", "2-1", "5-1");
      assertThat(trim(stream, read)).as("the last one read is gone").isZero();
      redis.delete(stream).block();
      addWithIds(stream, "1-1", "3-1", "5-1");
      assertThat(trim(stream, read)).as("the last one gone, a later one kept").isZero();
      redis.delete(stream).block();
      addWithIds(stream, "1-1", "2-1", "4-1", "5-1");
      assertThat(trim(stream, read)).as("a new entry among them, another on the last id").isZero();
      redis.delete(stream).block();
      addWithIds(stream, "1-1");
      add(stream, "2-1", "p3-1");
      addWithIds(stream, "4-1", "5-1");
      assertThat(trim(stream, read)).as("the same player's new change on another id").isZero();
      redis.delete(stream).block();
      addWithIds(stream, "1-0", "1-1", "3-1", "4-1");
      assertThat(trim(stream, read)).as("a new entry before them").isZero();
      redis.delete(stream).block();
      addWithIds(stream, "1-1", "3-1");
      add(stream, "4-1", "another player");
      assertThat(trim(stream, read)).as("another player's change on an id read").isZero();
      assertThat(ids(stream)).containsExactly("1-1", "3-1", "4-1");
    } finally {
      redis.delete(stream).block();
    }
  }

  /** Entries with these ids, each the change of player "p" + its id. */
  static void addWithIds(String stream, String... ids) {
    for (String id : ids) {
      add(stream, id, "p" + id);
    }
  }

  static void add(String stream, String id, String player) {
    redis
        .opsForStream()
        .add(
            StreamRecords.string(Map.of("p", player, "s", "LOBBY", "m", ""))
                .withStreamKey(stream)
                .withId(RecordId.of(id)))
        .block();
  }

  static List<String> ids(String stream) {
    return redis
        .opsForStream()
        .range(stream, Range.unbounded())
        .map(r -> r.getId().getValue())
        .collectList()
        .block();
  }

  /** The trim as a relay that read these ids (of entries {@link #addWithIds} added) asks it. */
  static long trim(String stream, List<String> ids) {
    List<String> args = new ArrayList<>(ids);
    ids.forEach(id -> args.add("p" + id));
    return redis.execute(PresenceRelay.TRIM, List.of(stream), args).blockLast();
  }

  static List<PresenceChanged> read(String topic, int count) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, SharedInfra.kafka().bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "presence-test-" + UUID.randomUUID());
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    List<PresenceChanged> changes = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p)) {
      consumer.subscribe(List.of(topic));
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                  changes.add(PresenceChanged.parseFrom(r.value()));
                }
                return changes.size() >= count;
              });
    }
    return changes;
  }
}
