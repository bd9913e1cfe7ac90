package dev.citadel.match.presence;

import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.protocol.member.v1.PresenceChanged;
import dev.citadel.protocol.member.v1.PresenceStatus;
import dev.citadel.web.lifecycle.GracefulLoop;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.connection.Limit;
import org.springframework.data.redis.connection.stream.MapRecord;
import org.springframework.data.redis.connection.stream.RecordId;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Moves presence changes from the Redis stream the queue scripts append to ({@link
 * Queues#PRESENCE_STREAM}) to Kafka ({@code player.presence}, keyed by player), and only then trims
 * them off the stream's start ({@code presence-trim.lua}): a change is never lost between Redis and
 * Kafka. One replica relays at a time (a lock with a TTL, like the matcher's); one that dies
 * between the send and the trim has its changes sent again by the next, which member-service
 * ignores (same sequence).
 *
 * <p>The sequence is the entry's id in the stream, {@code ms << 20 | n}: Redis orders every change
 * of every player on one clock (its ids only grow, even if its clock steps back), so a replica
 * whose clock is off, or a restart, cannot reorder a player's changes.
 */
public final class PresenceRelay {
  private static final Logger log = LoggerFactory.getLogger(PresenceRelay.class);
  static final int BATCH = 1000;
  private static final int MAX_BATCHES_PER_ROUND = 50;

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final RedisScript<Long> LOCK_ACQUIRE = Queues.script("lock-acquire", Long.class);

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final RedisScript<Long> LOCK_RELEASE = Queues.script("lock-release", Long.class);

  static final RedisScript<Long> TRIM = Queues.script("presence-trim", Long.class);

  private final ReactiveStringRedisTemplate redis;
  private final MessagePublisher publisher;
  private final String topic;
  private final String stream;
  private final String lock;
  private final Duration lockTtl;
  private final String owner = "presence-" + UUID.randomUUID();
  private final Counter relayed;
  private final Counter untrimmed;
  private final Counter unreadable;

  public PresenceRelay(
      ReactiveStringRedisTemplate redis,
      MessagePublisher publisher,
      String stream,
      String topic,
      Duration lockTtl,
      MeterRegistry meters) {
    this.redis = redis;
    this.publisher = publisher;
    this.stream = stream;
    this.lock = stream + "-relay-lock";
    this.topic = topic;
    this.lockTtl = lockTtl;
    this.untrimmed =
        Counter.builder("citadel_presence_untrimmed")
            .description(
                "Relayed batches the trim refused: another relay trimmed them first (having sent"
                    + " them too), or Redis lost them and began the stream again; whatever is left"
                    + " of them is sent again, and readers ignore repeats")
            .register(meters);
    this.unreadable =
        Counter.builder("citadel_presence_unreadable")
            .description(
                "Stream entries that are no presence change (no player, an unknown status): taken"
                    + " off the stream unsent, instead of stopping the relay at them for good")
            .register(meters);
    this.relayed =
        Counter.builder("citadel_presence_relayed")
            .description("Presence changes moved from Redis to Kafka (a resend counts again)")
            .register(meters);
  }

  /** One round: if this replica holds the lock, relays what is waiting. Answers how many. */
  public Mono<Integer> relay() {
    return redis
        .execute(LOCK_ACQUIRE, List.of(lock), List.of(owner, Long.toString(lockTtl.toMillis())))
        .next()
        .flatMap(held -> held == 1 ? drain(0, 0) : Mono.just(0));
  }

  private Mono<Integer> drain(int moved, int batches) {
    return relayBatch()
        .flatMap(
            n ->
                n == BATCH && batches + 1 < MAX_BATCHES_PER_ROUND
                    ? drain(moved + n, batches + 1)
                    : Mono.just(moved + n));
  }

  private Mono<Integer> relayBatch() {
    return redis
        .opsForStream()
        .range(stream, Range.unbounded(), Limit.limit().count(BATCH))
        .collectList()
        .flatMap(
            records -> {
              if (records.isEmpty()) {
                return Mono.just(0);
              }
              List<OutgoingMessage> messages = new ArrayList<>(records.size());
              for (MapRecord<String, Object, Object> r : records) {
                try {
                  messages.add(message(topic, r));
                } catch (IllegalArgumentException | NullPointerException unknown) {
                  // A status this version does not know (written by a newer one in a rolling
                  // update), or no player: every round would fail on it, for good.
                  unreadable.increment();
                  log.error("presence entry {} is no presence change: {}", r.getId(), r.getValue());
                }
              }
              // The ids read, then their players: the trim takes only these very entries.
              List<String> sent = new ArrayList<>(2 * records.size());
              records.forEach(r -> sent.add(r.getId().getValue()));
              records.forEach(r -> sent.add(Objects.toString(r.getValue().get("p"), "")));
              return publisher
                  .publishAll(Flux.fromIterable(messages))
                  .then(Mono.fromRunnable(() -> relayed.increment(messages.size())))
                  .then(redis.execute(TRIM, List.of(stream), sent).next().defaultIfEmpty(0L))
                  .doOnNext(
                      trimmed -> {
                        if (trimmed != records.size()) {
                          // Refused (see presence-trim.lua): what is left of them is sent again
                          // next round (readers ignore a repeat); none is taken unsent.
                          untrimmed.increment();
                        }
                      })
                  .thenReturn(records.size());
            });
  }

  static OutgoingMessage message(String topic, MapRecord<String, Object, Object> record) {
    PresenceChanged change = change(record.getId(), record.getValue());
    return new OutgoingMessage(topic, change.getPlayerId(), change.toByteArray());
  }

  static PresenceChanged change(RecordId id, Map<Object, Object> fields) {
    if (fields.get("p") == null || String.valueOf(fields.get("p")).isEmpty()) {
      throw new IllegalArgumentException("no player");
    }
    return PresenceChanged.newBuilder()
        .setPlayerId(String.valueOf(fields.get("p")))
        .setStatus(PresenceStatus.valueOf(String.valueOf(fields.get("s"))))
        .setMatchId(String.valueOf(fields.getOrDefault("m", "")))
        .setSequence(sequence(id))
        .setOccurredAtEpochMs(id.getTimestamp())
        .build();
  }

  /** The entry id as one number that grows with it: milliseconds, then the entry within one. */
  static long sequence(RecordId id) {
    return (id.getTimestamp() << 20) | Math.min(id.getSequence(), (1L << 20) - 1);
  }

  /**
   * Relays every {@code interval} until stopped; then gives the lock up (a graceful stop after the
   * round in hand, so another replica's relay takes over at once, not after the lock's time).
   */
  public GracefulLoop start(Duration interval) {
    return GracefulLoop.start(
        "presence relay",
        interval,
        () ->
            relay()
                .onErrorResume(
                    e -> {
                      log.warn("presence relay round failed, next round retries", e);
                      return Mono.just(0);
                    }),
        () -> redis.execute(LOCK_RELEASE, List.of(lock), List.of(owner)).then());
  }
}
