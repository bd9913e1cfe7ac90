package dev.citadel.loadtest.observe;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.protocol.match.v1.MatchFound;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.protocol.match.v1.RoomAssigned;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Watches the hand-off on Kafka as an outsider: every {@code match.found} (sent) and {@code
 * match.room-assigned} (room) for this run's players, read from the end of each topic as it was
 * when the observer started. Uses no consumer group, so it never disturbs the services' offsets.
 */
public final class MatchObserver implements AutoCloseable {
  /** A match as it was sent, and its room once assigned. */
  public record Match(String matchId, List<MatchedPlayer> players, long sentAtMs, Seat seat) {}

  /** A room assigned to a match; {@code atMs} is the record's timestamp. */
  public record Seat(int channel, int room, long atMs, List<String> players) {}

  private final String playerPrefix;
  private final KafkaConsumer<String, byte[]> consumer;
  private final String foundTopic;
  private final Map<String, MatchFound> found = new ConcurrentHashMap<>();
  private final Map<String, Long> sentAt = new ConcurrentHashMap<>();
  private final Map<String, Seat> seats = new ConcurrentHashMap<>();
  private final Map<String, String> seatedPlayer = new ConcurrentHashMap<>();
  private final Set<String> sentPlayers = ConcurrentHashMap.newKeySet();
  private final Set<String> duplicated = ConcurrentHashMap.newKeySet();
  private final AtomicLong foundRecords = new AtomicLong();
  private final CountDownLatch stopped = new CountDownLatch(1);
  private volatile boolean running = true;

  private MatchObserver(
      String bootstrapServers, String playerPrefix, String foundTopic, String assignedTopic) {
    this.playerPrefix = playerPrefix;
    this.foundTopic = foundTopic;
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "loadtest-observer");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    props.put(
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    consumer = new KafkaConsumer<>(props);
    List<TopicPartition> partitions = new ArrayList<>();
    for (String topic : List.of(foundTopic, assignedTopic)) {
      consumer
          .partitionsFor(topic, Duration.ofSeconds(30))
          .forEach(p -> partitions.add(new TopicPartition(topic, p.partition())));
    }
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    partitions.forEach(consumer::position); // resolve now: everything later is ours to see
  }

  /**
   * Starts watching; returns once the start positions are fixed.
   *
   * @param playerPrefix only players whose id starts with it (this run's) are counted
   */
  public static MatchObserver start(
      String bootstrapServers, String playerPrefix, String foundTopic, String assignedTopic) {
    MatchObserver observer =
        new MatchObserver(bootstrapServers, playerPrefix, foundTopic, assignedTopic);
    Thread thread = new Thread(observer::run, "loadtest-observer");
    thread.setDaemon(true);
    thread.start();
    return observer;
  }

  private void run() {
    try {
      while (running) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          try {
            if (r.topic().equals(foundTopic)) {
              onFound(MatchFound.parseFrom(r.value()), r.timestamp());
            } else {
              onAssigned(RoomAssigned.parseFrom(r.value()), r.timestamp());
            }
          } catch (InvalidProtocolBufferException e) {
            // not ours to judge; the services dead-letter what they cannot read
          }
        }
      }
    } catch (WakeupException e) {
      // closing
    } finally {
      consumer.close();
      stopped.countDown();
    }
  }

  private boolean ours(String playerId) {
    return playerId.startsWith(playerPrefix);
  }

  private void onFound(MatchFound m, long atMs) {
    if (m.getPlayersCount() == 0 || !ours(m.getPlayers(0).getPlayerId())) {
      return;
    }
    foundRecords.incrementAndGet();
    found.put(m.getMatchId(), m);
    sentAt.putIfAbsent(m.getMatchId(), atMs);
    m.getPlayersList().forEach(p -> sentPlayers.add(p.getPlayerId()));
  }

  private void onAssigned(RoomAssigned a, long atMs) {
    if (a.getPlayerIdsCount() == 0 || !ours(a.getPlayerIds(0))) {
      return;
    }
    Seat seat = new Seat(a.getChannel(), a.getRoom(), atMs, List.copyOf(a.getPlayerIdsList()));
    if (seats.putIfAbsent(a.getMatchId(), seat) != null) {
      return; // the same answer again (a redelivered match.found)
    }
    for (String player : a.getPlayerIdsList()) {
      String before = seatedPlayer.putIfAbsent(player, a.getMatchId());
      if (before != null && !before.equals(a.getMatchId())) {
        duplicated.add(player);
      }
    }
  }

  /** Distinct players of this run sent in a {@code match.found}. */
  public int playersSent() {
    return sentPlayers.size();
  }

  /** Distinct matches of this run sent. */
  public int matchesSent() {
    return found.size();
  }

  /** {@code match.found} records of this run, re-sends included. */
  public long foundRecords() {
    return foundRecords.get();
  }

  /** Distinct players of this run given a room. */
  public int playersSeated() {
    return seatedPlayer.size();
  }

  /** Players given rooms in two different matches (must stay empty). */
  public Set<String> duplicated() {
    return Set.copyOf(duplicated);
  }

  /** Every match sent so far, with its room if it has one. */
  public List<Match> matches() {
    List<Match> out = new ArrayList<>(found.size());
    found.forEach(
        (id, m) ->
            out.add(new Match(id, m.getPlayersList(), sentAt.getOrDefault(id, 0L), seats.get(id))));
    return out;
  }

  @Override
  public void close() {
    running = false;
    consumer.wakeup();
    try {
      stopped.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // stop waiting; the caller sees the interrupt
    }
  }
}
