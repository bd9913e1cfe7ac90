package dev.citadel.match.queue;

import dev.citadel.match.domain.Ticket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The queues in Redis. Every mutation that must be atomic is one Lua script (resources/scripts);
 * scripts take {@code now} as an argument; keys share the hash tag {@code {mq}} so a queue lives on
 * one Redis Cluster slot.
 *
 * <p>Why one class of this size: it is the one adapter to the queue's Redis keys, each method one
 * script call and the parsing of its reply; the keys' layout is its secret, so every script that
 * changes them is here. Reading the change feed those scripts write is {@link QueueFeed}'s.
 */
public final class Queues {
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final RedisScript<List<String>> ENQUEUE =
      (RedisScript) feedScript("enqueue", List.class);

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final RedisScript<List<String>> POP_MANY =
      (RedisScript) feedScript("pop-matches", List.class);

  private static final RedisScript<Long> REQUEUE = feedScript("requeue", Long.class);

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final RedisScript<List<String>> ASSIGN_ALL =
      (RedisScript) script("assign-all", List.class);

  private static final RedisScript<Long> RETRY = script("retry-pending", Long.class);

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final RedisScript<List<String>> END_MATCH =
      (RedisScript) script("end-match", List.class);

  private static final RedisScript<String> CANCEL = feedScript("cancel", String.class);
  private static final RedisScript<Long> LOCK = script("lock-acquire", Long.class);

  private static final RedisScript<Long> UNLOCK = script("lock-release", Long.class);

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static final RedisScript<List<String>> STATUS =
      (RedisScript) script("status", List.class);

  /**
   * A script read once: from a string it is hashed once, where a resource is asked on every call
   * whether it changed (which opens the jar entry: 8 % of the gateway's CPU when its rate limiter
   * did it).
   */
  public static <T> RedisScript<T> script(String name, Class<T> type) {
    return new DefaultRedisScript<>(text(name), type);
  }

  /** A script that changes who waits: the feed's {@code changed} function first. */
  private static <T> RedisScript<T> feedScript(String name, Class<T> type) {
    return new DefaultRedisScript<>(text("feed-change") + text(name), type);
  }

  private static String text(String name) {
    try (java.io.InputStream in =
        new ClassPathResource("scripts/" + name + ".lua").getInputStream()) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("script " + name + " is missing", e);
    }
  }

  /**
   * Every change of a player's place (queued, back in the lobby, in a game) is appended here by the
   * same script that makes it, in the order the changes happen; {@code PresenceRelay} moves them to
   * Kafka. One stream for every queue (same hash slot), so its entry ids order every change.
   */
  public static final String PRESENCE_STREAM = "{mq}:presence";

  /** The keys of one queue. */
  record Keys(String queue) {
    String key(String part) {
      return "{mq}:" + queue + ":" + part;
    }

    String tickets() {
      return key("tickets");
    }

    String matched() {
      return key("matched");
    }

    String assigned() {
      return key("assigned");
    }

    String pending() {
      return key("pending");
    }

    /** Matches seated and not yet told to their players: match id to its pending record. */
    String unannounced() {
      return key("unannounced");
    }

    String deadlines() {
      return key("pending-deadlines");
    }

    String lock() {
      return key("matcher-lock");
    }

    /** Set while the queue forms no matches: game-state had no free room for the last one. */
    String holdOff() {
      return key("hold-off");
    }

    /** Every change of the waiting players, in order (a stream, trimmed to about 200,000). */
    String changes() {
      return key("changes");
    }

    /** How many changes there have been: each entry of {@link #changes()} carries its number. */
    String changeCount() {
      return key("change-count");
    }
  }

  private final ReactiveStringRedisTemplate redis;
  private final List<String> allQueues;
  private final String presence;
  private final QueueFeed feed;

  /** Queues that know of no other queue (tests of one queue). */
  public Queues(ReactiveStringRedisTemplate redis) {
    this(redis, List.of());
  }

  /**
   * @param allQueues every configured queue: a player is in at most one of them at a time
   */
  public Queues(ReactiveStringRedisTemplate redis, List<String> allQueues) {
    this(redis, allQueues, PRESENCE_STREAM);
  }

  /**
   * @param presenceStream where the scripts record presence changes (a name with the hash tag
   *     {@code {mq}}; another one only in tests that must not share it)
   */
  public Queues(ReactiveStringRedisTemplate redis, List<String> allQueues, String presenceStream) {
    if (!presenceStream.startsWith("{mq}:")) {
      throw new IllegalArgumentException("the presence stream must share the hash tag {mq}");
    }
    this.redis = redis;
    this.feed = new QueueFeed(redis, this);
    this.allQueues = List.copyOf(allQueues);
    this.presence = presenceStream;
  }

  /** What happened to each ticket, in order. */
  public Mono<List<Enqueued>> enqueue(String queue, List<Ticket> tickets, long nowMs) {
    return enqueue(queue, tickets, nowMs, true);
  }

  /**
   * The same; {@code recordPresence} false for load-test players, who have no account (nobody looks
   * at their presence).
   */
  public Mono<List<Enqueued>> enqueue(
      String queue, List<Ticket> tickets, long nowMs, boolean recordPresence) {
    for (Ticket t : tickets) {
      if (!storable(t.playerId()) || (t.nickname() != null && !storable(t.nickname()))) {
        // A pending match is stored as created#attempt#p|elo|at|nick;... (PendingMatch).
        return Mono.error(
            new IllegalArgumentException(
                "a player id or nickname holds ';', '|' or '#': " + t.playerId()));
      }
    }
    Keys k = new Keys(queue);
    List<String> others = allQueues.stream().filter(q -> !q.equals(queue)).toList();
    List<String> keys = new ArrayList<>(List.of(k.tickets(), k.matched(), k.assigned()));
    for (String other : others) {
      Keys o = new Keys(other);
      keys.addAll(List.of(o.tickets(), o.matched(), o.assigned()));
    }
    keys.add(presence);
    keys.add(k.changes());
    keys.add(k.changeCount());
    List<String> args = new ArrayList<>(3 + others.size() + tickets.size() * 3);
    args.add(Long.toString(nowMs));
    args.add(Integer.toString(others.size()));
    args.add(recordPresence ? "1" : "0");
    args.addAll(others);
    for (Ticket t : tickets) {
      args.add(t.playerId());
      args.add(Integer.toString(t.elo()));
      args.add(t.nickname());
    }
    return redis
        .execute(ENQUEUE, keys, args)
        .next()
        .map(answers -> answers.stream().map(Enqueued::parse).toList());
  }

  /** Whether a player id or nickname fits the pending match's record (see {@link PendingMatch}). */
  public static boolean storable(String s) {
    return s.indexOf(';') < 0 && s.indexOf('|') < 0 && s.indexOf('#') < 0;
  }

  /** The change feed of this Redis's queues, for a reader that keeps its own copy. */
  public QueueFeed feed() {
    return feed;
  }

  /** Entries a page of a whole read asks for (HSCAN's COUNT). */
  static final int WHOLE_READ_PAGE = 10_000;

  /**
   * Everyone waiting in the queue, read in pages (HSCAN): one HGETALL of a million players held the
   * connection every command of this replica shares for 2-4 s, and whatever was sent behind it
   * (joins, pops, lock renewals) waited that long or timed out. A player there for the whole read
   * is in it; one who joined or left meanwhile may or may not be, as with a read at any one moment
   * of it (the feed's later changes put the copy right); a player HSCAN returns twice counts once,
   * the later answer. Parsed as the pages come on the matcher's thread ({@link QueueFeed#MATCHER}),
   * not the Redis client's, which delivers every reply of the replica (a million parsed there at
   * the end held every other reply for a second).
   */
  public Mono<List<Ticket>> snapshot(String queue) {
    return redis
        .<String, String>opsForHash()
        .scan(
            new Keys(queue).tickets(),
            org.springframework.data.redis.core.ScanOptions.scanOptions()
                .count(WHOLE_READ_PAGE)
                .build())
        .publishOn(QueueFeed.MATCHER, WHOLE_READ_PAGE)
        .map(e -> ticket(e.getKey(), e.getValue()))
        .collectMap(Ticket::playerId, t -> t)
        .map(byPlayer -> List.copyOf(byPlayer.values()));
  }

  static Ticket ticket(String player, String stored) {
    String[] f = stored.split("\\|", 3);
    return new Ticket(player, Integer.parseInt(f[0]), Long.parseLong(f[1]), f[2]);
  }

  /**
   * Takes the players of many matches of the same size out of the queue and records each pending
   * match, in ONE script call; the answer holds each match's id in order, or empty where one of its
   * players left meanwhile (its players stay queued).
   */
  public Mono<List<Optional<String>>> popAll(
      String queue, List<List<String>> matches, long nowMs, long deadlineMs) {
    return popGroups(queue, matches, nowMs, deadlineMs)
        .map(popped -> popped.stream().map(Popped::matchId).toList());
  }

  /**
   * A group's pop: its match's id and its players as the queue held them when they left it (each
   * ticket as stored: the Elo and nickname the match is announced with), or no id and the first of
   * its players found no longer waiting (so a reader of the queue can tell a race from a copy that
   * still holds a ghost).
   */
  public record Popped(Optional<String> matchId, String missing, List<Ticket> players) {}

  /** {@link #popAll}, telling for each skipped group which player was missing. */
  public Mono<List<Popped>> popGroups(
      String queue, List<List<String>> matches, long nowMs, long deadlineMs) {
    if (matches.isEmpty()) {
      return Mono.just(List.of());
    }
    int size = matches.get(0).size();
    Keys k = new Keys(queue);
    List<String> args = new ArrayList<>(4 + matches.size() * size);
    args.add(MatchIds.next(queue, nowMs));
    args.add(Long.toString(nowMs));
    args.add(Long.toString(deadlineMs));
    args.add(Integer.toString(size));
    for (List<String> players : matches) {
      if (players.size() != size) {
        throw new IllegalArgumentException("matches of different sizes in one pop");
      }
      args.addAll(players);
    }
    return redis
        .execute(
            POP_MANY,
            List.of(
                k.tickets(), k.matched(), k.pending(), k.deadlines(), k.changes(), k.changeCount()),
            args)
        .next()
        .map(answer -> popped(answer, matches.size(), size));
  }

  /**
   * The pop script's answer: per group an empty entry and the player found missing, or the match's
   * id followed by each of its {@code size} players' id and stored ticket. An answer that does not
   * hold exactly {@code groups} groups is refused (before anything is sent: the popped matches then
   * wait for their deadline and are sent again from what the queue stored).
   */
  static List<Popped> popped(List<String> answer, int groups, int size) {
    List<Popped> popped = new ArrayList<>();
    int i = 0;
    while (i < answer.size() && popped.size() < groups) {
      String id = answer.get(i++);
      if (i + (id.isEmpty() ? 1 : 2 * size) > answer.size()) {
        break; // cut short: refused below
      }
      if (id.isEmpty()) {
        popped.add(new Popped(Optional.empty(), answer.get(i++), List.of()));
      } else {
        List<Ticket> players = new ArrayList<>(size);
        for (int k = 0; k < size; k++, i += 2) {
          players.add(ticket(answer.get(i), answer.get(i + 1)));
        }
        popped.add(new Popped(Optional.of(id), null, List.copyOf(players)));
      }
    }
    if (popped.size() != groups || i != answer.size()) {
      throw new IllegalStateException(
          "the pop script answered " + answer.size() + " entries for " + groups + " groups");
    }
    return popped;
  }

  public Mono<Boolean> requeue(String queue, String matchId) {
    Keys k = new Keys(queue);
    return redis
        .execute(
            REQUEUE,
            List.of(
                k.tickets(),
                k.matched(),
                k.pending(),
                k.deadlines(),
                presence,
                k.changes(),
                k.changeCount()),
            List.of(matchId))
        .next()
        .map(n -> n == 1);
  }

  /** A room confirmed for a match; {@code someone} is one of its players. */
  public record Assignment(String matchId, int channel, int room, String someone) {}

  /** What {@link #assignAll} did with one match. */
  public sealed interface Assigned {
    /**
     * Its players are in a game and not told yet: assigned by this call, or by one whose answer was
     * lost (announce it, then {@link #announced}).
     */
    record Now(PendingMatch match) implements Assigned {}

    /** It was assigned before, to this room, and announced: a redelivery (change nothing). */
    record Before() implements Assigned {}

    /**
     * It is no longer this match's to assign (cancelled and requeued, or its game ended first):
     * nothing changed.
     */
    record Gone() implements Assigned {}
  }

  /**
   * These matches' players were told of their room: {@link #assignAll} answers them {@link
   * Assigned.Before} from now on.
   */
  public Mono<Void> announced(String queue, List<String> matchIds) {
    if (matchIds.isEmpty()) {
      return Mono.empty();
    }
    return redis
        .<String, String>opsForHash()
        .remove(new Keys(queue).unannounced(), matchIds.toArray())
        .then();
  }

  /**
   * Puts the players of each confirmed match in a game, for many matches in ONE script call;
   * answers, in order, what happened to each (see {@link Assigned}): only a match not announced yet
   * is to be announced, so a redelivered confirmation is harmless and one whose answer was lost is
   * still announced.
   */
  public Mono<List<Assigned>> assignAll(String queue, List<Assignment> assignments) {
    if (assignments.isEmpty()) {
      return Mono.just(List.of());
    }
    Keys k = new Keys(queue);
    List<String> args = new ArrayList<>(assignments.size() * 4);
    for (Assignment a : assignments) {
      args.add(a.matchId());
      args.add(Integer.toString(a.channel()));
      args.add(Integer.toString(a.room()));
      args.add(a.someone());
    }
    return redis
        .execute(
            ASSIGN_ALL,
            List.of(
                k.matched(), k.pending(), k.deadlines(), k.assigned(), presence, k.unannounced()),
            args)
        .next()
        .map(
            stored -> {
              List<Assigned> result = new ArrayList<>(stored.size());
              for (int i = 0; i < stored.size(); i++) {
                String s = stored.get(i);
                result.add(
                    switch (s) {
                      case "" -> new Assigned.Gone();
                      case "=" -> new Assigned.Before();
                      default ->
                          new Assigned.Now(PendingMatch.parse(assignments.get(i).matchId(), s));
                    });
              }
              return result;
            });
  }

  /**
   * Moves a pending match on from the attempt {@code seen} (its next try, due again at {@code
   * deadlineMs}), if it is still at that attempt and due at {@code nowMs}.
   *
   * @return the new attempt number, 0 if the match is no longer pending, was moved on meanwhile (by
   *     another replica) or is not due
   */
  public Mono<Integer> retry(String queue, String matchId, int seen, long nowMs, long deadlineMs) {
    Keys k = new Keys(queue);
    return redis
        .execute(
            RETRY,
            List.of(k.pending(), k.deadlines()),
            List.of(
                matchId, Long.toString(deadlineMs), Integer.toString(seen), Long.toString(nowMs)))
        .next()
        .map(Long::intValue);
  }

  public Mono<Cancelled> cancel(String queue, String player) {
    Keys k = new Keys(queue);
    return redis
        .execute(
            CANCEL,
            List.of(k.tickets(), k.matched(), k.assigned(), presence, k.changes(), k.changeCount()),
            List.of(player))
        .next()
        .map(Cancelled::valueOf);
  }

  public Mono<Optional<PendingMatch>> pending(String queue, String matchId) {
    return redis
        .<String, String>opsForHash()
        .get(new Keys(queue).pending(), matchId)
        .map(stored -> Optional.of(PendingMatch.parse(matchId, stored)))
        .defaultIfEmpty(Optional.empty());
  }

  /** The match the player has a seat in, in this queue's Redis, if any. */
  public Mono<java.util.Optional<String>> seatedIn(String queue, String player) {
    return redis
        .<String, String>opsForHash()
        .get(new Keys(queue).assigned(), player)
        .map(seat -> java.util.Optional.of(seat.substring(0, Math.max(0, seat.indexOf('|')))))
        .defaultIfEmpty(java.util.Optional.empty());
  }

  /**
   * A game is over: its seated players leave it, and a match still pending (its room confirmation
   * not read yet) is released, so that confirmation seats nobody. Idempotent.
   *
   * @return the players who left now (to be told)
   */
  public Mono<List<String>> endMatch(String queue, String matchId, List<String> players) {
    Keys k = new Keys(queue);
    List<String> args = new ArrayList<>(players.size() + 1);
    args.add(matchId);
    args.addAll(players);
    return redis
        .execute(
            END_MATCH,
            List.of(
                k.matched(), k.pending(), k.deadlines(), k.assigned(), presence, k.unannounced()),
            args)
        .next();
  }

  /** Pending matches whose deadline has passed. */
  public Flux<PendingMatch> overdue(String queue, long nowMs, int limit) {
    Keys k = new Keys(queue);
    return redis
        .opsForZSet()
        // Limited in Redis: during a game-state outage hundreds of thousands may be overdue, and
        // every replica's pass asked for all of their ids to keep a thousand.
        .rangeByScore(
            k.deadlines(),
            Range.closed(Double.NEGATIVE_INFINITY, (double) nowMs),
            org.springframework.data.redis.connection.Limit.limit().count(limit))
        .concatMap(id -> pending(queue, id).flatMap(p -> Mono.justOrEmpty(p)));
  }

  public Mono<Boolean> lock(String queue, String owner, Duration ttl) {
    return redis
        .execute(
            LOCK, List.of(new Keys(queue).lock()), List.of(owner, Long.toString(ttl.toMillis())))
        .next()
        .map(n -> n == 1);
  }

  /**
   * The queue forms no matches for {@code wait}: game-state refused one for want of a free room.
   * Its players went back with their place, so without a pause the next tick would form the same
   * match again, and be refused again, for as long as every room is taken.
   */
  public Mono<Void> holdOff(String queue, Duration wait) {
    return redis.opsForValue().set(new Keys(queue).holdOff(), "1", wait).then();
  }

  /** Whether {@link #holdOff} is in force for the queue. */
  public Mono<Boolean> heldOff(String queue) {
    return redis.hasKey(new Keys(queue).holdOff());
  }

  public Mono<Boolean> unlock(String queue, String owner) {
    return redis
        .execute(UNLOCK, List.of(new Keys(queue).lock()), List.of(owner))
        .next()
        .map(n -> n == 1);
  }

  /** Where the player stands in the queue, read at one moment (one script). */
  public Mono<QueueStatus> status(String queue, String player) {
    Keys k = new Keys(queue);
    return redis
        .execute(STATUS, List.of(k.tickets(), k.matched(), k.assigned()), List.of(player))
        .next()
        .map(
            r ->
                switch (r.get(0)) {
                  case "WAITING" ->
                      new QueueStatus(
                          queue,
                          QueueState.WAITING,
                          ticket(player, r.get(1)).enqueuedAtMs(),
                          Long.parseLong(r.get(2)),
                          null,
                          null,
                          null);
                  case "MATCHED" ->
                      new QueueStatus(queue, QueueState.MATCHED, null, null, r.get(1), null, null);
                  case "IN_GAME" -> {
                    String[] f = r.get(1).split("\\|");
                    yield new QueueStatus(
                        queue,
                        QueueState.IN_GAME,
                        null,
                        null,
                        f[0],
                        Integer.parseInt(f[1]),
                        Integer.parseInt(f[2]));
                  }
                  default ->
                      new QueueStatus(queue, QueueState.NOT_QUEUED, null, null, null, null, null);
                });
  }

  /** Counts for tests and metrics: waiting, matched (pending), in game. */
  public Mono<Map<String, Long>> counts(String queue) {
    Keys k = new Keys(queue);
    var hash = redis.<String, String>opsForHash();
    return Mono.zip(hash.size(k.tickets()), hash.size(k.matched()), hash.size(k.assigned()))
        .map(t -> Map.of("waiting", t.getT1(), "matched", t.getT2(), "inGame", t.getT3()));
  }
}
