package dev.citadel.match.queue;

import dev.citadel.match.domain.Ticket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The reading side of each queue's change feed (written by the scripts that change who waits, see
 * {@code feed-change.lua}): where it stands, the changes after an entry, and a whole read with the
 * position it includes. For a reader that keeps its own copy of a queue (the matcher's {@code
 * QueueCopy}); {@link Queues} keeps the writes.
 */
public final class QueueFeed {
  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final RedisScript<List<String>> FEED_POSITION =
      (RedisScript) Queues.script("feed-position", List.class);

  /**
   * Where the matcher works on what it reads (parsing, catching up, sorting, forming matches): a
   * thread of its own, not the Redis client's one thread, which delivers every reply of this
   * replica, nor Reactor's parallel workers, which run every timer (a whole read of a million there
   * made timeouts and loops on that worker late by its second). One thread: the copies, which are
   * not thread-safe, are only ever touched there or after a hand-off from it.
   */
  public static final Scheduler MATCHER = Schedulers.newSingle("matcher", true);

  private final ReactiveStringRedisTemplate redis;
  private final Queues queues;

  QueueFeed(ReactiveStringRedisTemplate redis, Queues queues) {
    this.redis = redis;
    this.queues = queues;
  }

  /**
   * One change of a queue's waiting players as its scripts recorded it: {@code ticket} joined (or
   * came back), or {@code playerId} left (matched or cancelled; {@code ticket} null). {@code id} is
   * the feed's entry id, {@code number} the change's place in the count ({@code changeCount}).
   */
  public record Change(String id, long number, String playerId, Ticket ticket) {}

  /**
   * Where the change feed stands: {@code count} changes so far (it starts again from 0 when Redis
   * lost its data, which is how a reader learns its copy is void), the newest kept at {@code id},
   * and {@code waiting} players in the queue at that count.
   */
  public record FeedPosition(long count, String id, long waiting) {}

  /** Everyone waiting, and the feed's position that the snapshot already includes. */
  public record Snapshot(FeedPosition position, List<Ticket> tickets) {}

  public Mono<FeedPosition> feedPosition(String queue) {
    Queues.Keys k = new Queues.Keys(queue);
    return redis
        .execute(FEED_POSITION, List.of(k.changes(), k.changeCount(), k.tickets()), List.of())
        .next()
        .publishOn(MATCHER)
        .map(r -> new FeedPosition(Long.parseLong(r.get(0)), r.get(1), Long.parseLong(r.get(2))));
  }

  /**
   * The changes of {@code entries} feed entries (an entry holds one change, or a match's leaves).
   */
  public record ChangePage(List<Change> changes, int entries) {}

  /**
   * The changes of up to {@code limit} feed entries after the entry {@code afterId} ({@code "0-0"}:
   * from the first one kept), oldest first.
   */
  public Mono<ChangePage> changesAfter(String queue, String afterId, int limit) {
    return redis
        .opsForStream()
        .range(
            new Queues.Keys(queue).changes(),
            Range.rightUnbounded(Range.Bound.inclusive(nextId(afterId))),
            org.springframework.data.redis.connection.Limit.limit().count(limit))
        .collectList()
        .publishOn(MATCHER)
        .map(
            records -> {
              List<Change> changes = new ArrayList<>(records.size());
              for (var r : records) {
                addChanges(r.getId().getValue(), r.getValue(), changes);
              }
              return new ChangePage(changes, records.size());
            });
  }

  /** One entry's changes: a join or leave ({@code p}), or {@code n} leaves ({@code p1..pn}). */
  private static void addChanges(String id, Map<Object, Object> v, List<Change> into) {
    long first = Long.parseLong(String.valueOf(v.get("s")));
    Object together = v.get("n");
    if (together != null) {
      int n = Integer.parseInt(String.valueOf(together));
      for (int k = 1; k <= n; k++) {
        into.add(new Change(id, first + k - 1, String.valueOf(v.get("p" + k)), null));
      }
      return;
    }
    String player = String.valueOf(v.get("p"));
    boolean added = "+".equals(String.valueOf(v.get("o")));
    into.add(
        new Change(
            id, first, player, added ? Queues.ticket(player, String.valueOf(v.get("t"))) : null));
  }

  /** The smallest stream id after {@code id} ({@code ms-seq}): XRANGE from there is "after". */
  static String nextId(String id) {
    int dash = id.indexOf('-');
    long ms = Long.parseUnsignedLong(id.substring(0, dash));
    long seq = Long.parseUnsignedLong(id.substring(dash + 1));
    // Both parts are unsigned 64-bit: the last sequence of a millisecond carries into the next.
    return seq == -1L
        ? Long.toUnsignedString(ms + 1) + "-0"
        : Long.toUnsignedString(ms) + "-" + Long.toUnsignedString(seq + 1);
  }

  /**
   * Everyone waiting, read whole (in pages, {@link Queues#snapshot}), with the feed's position read
   * BEFORE it: every change up to there is in the snapshot, and replaying the later ones over it is
   * harmless (each sets or removes one player, so the last one for a player wins either way; a
   * player who joined or left during the read is put right by the change that did it).
   */
  public Mono<Snapshot> snapshotWithPosition(String queue) {
    return feedPosition(queue)
        .flatMap(at -> queues.snapshot(queue).map(tickets -> new Snapshot(at, tickets)));
  }
}
