package dev.citadel.match.matcher;

import dev.citadel.match.domain.Matchmaking;
import dev.citadel.match.domain.SkillWindow;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.queue.Queues;
import dev.citadel.web.lifecycle.GracefulLoop;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The matcher of each queue. Across all match-service replicas one matcher per queue works at a
 * time: the lock (SET NX PX with this replica's owner token) is taken or renewed at every tick and
 * released only by its owner. A tick reads the queue, forms matches (a pure function), pops each
 * match's players into a pending match (one Lua script) and hands the match over to Kafka (the
 * queue's next tick waits for Kafka's acknowledgements).
 *
 * <p>One class, over 300 lines: the tick's steps share the lock, the copy, the sends under way and
 * the meters of one queue; the pure parts live elsewhere ({@code Matchmaking}, {@code
 * SortedWaiting}, the scripts).
 */
public final class Matcher {
  private static final Logger log = LoggerFactory.getLogger(Matcher.class);
  private static final int POP_CHUNK = 50;

  /** At most this many ticks of one queue back to back, each full (see {@link #start}). */
  static final int TICKS_IN_A_ROW = 20;

  /**
   * How matches are formed. {@code maxMatchesPerTick} bounds a tick's work (its pops and sends):
   * past it the groups whose players waited longest go first and the rest wait for the next tick
   * (which follows at once: see {@link Matcher#start}).
   */
  public record Settings(
      int playersPerMatch,
      SkillWindow window,
      Duration roomTimeout,
      Duration lockTtl,
      int maxMatchesPerTick) {
    /**
     * At a million waiting a tick costs about 30 ms of its own (catching the copy up, the walk) and
     * 0.1 ms a match (mostly the pop script inside Redis): 300 keeps a tick under 100 ms, and a
     * full tick is followed at once by the next ({@link Matcher#start}), so a crowd still goes
     * through at thousands of matches a second.
     */
    public static final int DEFAULT_MAX_MATCHES_PER_TICK = 300;

    /**
     * The most players one match may have: a pop script passes a group's players to single Redis
     * calls, and Lua unpacks only a few thousand values into one (a failure there, after the
     * players left the tickets hash, would strand them).
     */
    public static final int MAX_PLAYERS_PER_MATCH = 100;

    public Settings {
      if (maxMatchesPerTick < 1) {
        throw new IllegalArgumentException(
            "max matches per tick must be at least 1, not " + maxMatchesPerTick);
      }
      if (playersPerMatch < 2 || playersPerMatch > MAX_PLAYERS_PER_MATCH) {
        throw new IllegalArgumentException(
            "players per match must be 2-" + MAX_PLAYERS_PER_MATCH + ", not " + playersPerMatch);
      }
    }

    public Settings(
        int playersPerMatch, SkillWindow window, Duration roomTimeout, Duration lockTtl) {
      this(playersPerMatch, window, roomTimeout, lockTtl, DEFAULT_MAX_MATCHES_PER_TICK);
    }
  }

  private final Queues queues;
  private final HandOff handOff;
  private final Settings settings;
  private final Clock clock;
  private final String owner = "matcher-" + UUID.randomUUID();
  private final Counter formed;
  private final Counter skipped;
  private final DistributionSummary spread;
  private final MeterRegistry meters;
  private final Map<String, QueueGauges> gauges = new ConcurrentHashMap<>();
  private final Map<String, Timer> tickTimers = new ConcurrentHashMap<>();

  private static final SortedWaiting NONE = new SortedWaiting();

  /**
   * Each queue's sends its last tick started (and, after a failed tick, those of the ticks before
   * it not done yet): a flat list, so failing ticks add to it rather than nest around it. Waited
   * for by the queue's next tick.
   */
  private final Map<String, Collection<CompletableFuture<Void>>> sendsUnderWay =
      new ConcurrentHashMap<>();

  /** Each queue's copy while this replica holds its lock (dropped when another does). */
  private final Map<String, QueueCopy> copies = new ConcurrentHashMap<>();

  /**
   * Queue depth and oldest wait, as the matcher holding the queue last read it. Replicas not
   * holding it report 0, so a sum over replicas is the queue's figure.
   */
  private record QueueGauges(AtomicLong depth, AtomicLong oldestWaitMs) {}

  public Matcher(
      Queues queues, HandOff handOff, Settings settings, Clock clock, MeterRegistry meters) {
    this.queues = queues;
    this.handOff = handOff;
    this.settings = settings;
    this.clock = clock;
    this.meters = meters;
    this.formed = Counter.builder("citadel_matches_formed").register(meters);
    this.skipped =
        Counter.builder("citadel_match_groups_skipped")
            .description(
                "Groups not formed because a player had left or been taken meanwhile (a cancel,"
                    + " or another matcher after this one's lock lapsed)")
            .register(meters);
    this.spread =
        DistributionSummary.builder("citadel_match_elo_spread")
            .publishPercentileHistogram()
            .register(meters);
  }

  /** One tick of one queue; 0 if another replica's matcher holds the queue. */
  public Mono<Integer> tick(String queue) {
    Timer.Sample sample = Timer.start(meters);
    return queues
        .lock(queue, owner, settings.lockTtl())
        .flatMap(
            held -> {
              if (!held) {
                copies.remove(queue); // another replica's now: its copy is read again if needed
                observe(queue, NONE, 0);
                return Mono.just(0);
              }
              // No free room for the last match: forming the same ones again now would only be
              // refused again (Lifecycle holds the queue off for a moment).
              return queues
                  .heldOff(queue)
                  .flatMap(
                      off ->
                          off
                              ? Mono.just(0)
                              : formMatches(queue).doOnNext(n -> sample.stop(tickTimer(queue))));
            });
  }

  private Timer tickTimer(String queue) {
    return tickTimers.computeIfAbsent(
        queue,
        q ->
            Timer.builder("citadel_matcher_tick_seconds")
                .description("One matcher tick: read, form, pop, hand off")
                .tag("queue", q)
                .register(meters));
  }

  private void observe(String queue, SortedWaiting waiting, long now) {
    QueueGauges g =
        gauges.computeIfAbsent(
            queue,
            q -> {
              QueueGauges created = new QueueGauges(new AtomicLong(), new AtomicLong());
              Gauge.builder("citadel_match_queue_depth", created.depth(), AtomicLong::get)
                  .tag("queue", q)
                  .description("players waiting in the queue")
                  .register(meters);
              Gauge.builder(
                      "citadel_match_queue_oldest_wait_seconds",
                      created.oldestWaitMs(),
                      ms -> ms.get() / 1000.0)
                  .tag("queue", q)
                  .description("how long the longest-waiting player has waited")
                  .register(meters);
              return created;
            });
    g.depth().set(waiting.size());
    long oldest = now;
    long[] since = waiting.since();
    for (int i = 0; i < waiting.size(); i++) {
      oldest = Math.min(oldest, since[i]);
    }
    g.oldestWaitMs().set(now - oldest);
  }

  private Mono<Integer> formMatches(String queue) {
    long now = clock.millis();
    long deadline = now + settings.roomTimeout().toMillis();
    QueueCopy copy =
        copies.computeIfAbsent(
            queue, q -> new QueueCopy(queues.feed(), q, reason -> readWhole(q, reason)));
    List<CompletableFuture<Void>> previous =
        List.copyOf(sendsUnderWay.getOrDefault(queue, List.of()));
    Queue<CompletableFuture<Void>> started = new ConcurrentLinkedQueue<>();
    return copy.refresh()
        .doOnNext(byElo -> observe(queue, byElo, now))
        .doOnError(e -> copies.remove(queue, copy)) // half applied: read it whole next time
        .flatMapMany(
            byElo ->
                Flux.fromIterable(
                    Matchmaking.formSorted(
                        byElo::ticket,
                        byElo.elos(),
                        byElo.since(),
                        byElo.size(),
                        now,
                        settings.window(),
                        settings.playersPerMatch(),
                        settings.maxMatchesPerTick())))
        // Many matches per script call: one round trip pops a chunk, then each is handed off.
        .buffer(POP_CHUNK)
        .flatMap(
            chunk ->
                queues
                    .popGroups(
                        queue,
                        chunk.stream()
                            .map(g -> g.players().stream().map(Ticket::playerId).toList())
                            .toList(),
                        now,
                        deadline)
                    .map(popped -> handOver(queue, copy, chunk, popped, now, started)),
            4)
        .reduce(0, Integer::sum)
        // This tick's sends go on while the next tick reads and pops; that one waits for them
        // before it ends, so while ticks succeed at most two ticks' sends are under way. A tick
        // that failed did not wait for the last one's: the next waits for both (those not done).
        .doOnError(
            e -> {
              // The live queue, not a copy: a chunk whose reply was being delivered as the tick
              // failed may still add its sends.
              previous.stream().filter(f -> !f.isDone()).forEach(started::add);
              started.removeIf(CompletableFuture::isDone);
              sendsUnderWay.put(queue, started);
            })
        .flatMap(
            taken -> {
              sendsUnderWay.put(queue, started);
              // Not for ever: Kafka slow to acknowledge (up to the producer's minute) would hold
              // every queue's ticks, and with them the renewals of their locks, which would then
              // go from replica to replica. Past a quarter of the lock's time the sends not done
              // are carried over to the next tick, which waits for them in turn.
              return Mono.fromFuture(
                      CompletableFuture.allOf(previous.toArray(CompletableFuture[]::new)), true)
                  .timeout(
                      settings.lockTtl().dividedBy(4),
                      Mono.fromRunnable(
                          () -> previous.stream().filter(f -> !f.isDone()).forEach(started::add)))
                  .thenReturn(taken);
            });
  }

  /**
   * Counts a chunk's pops (how many matches it took) and starts the sends of those matches, adding
   * them to {@code started}: the tick does not wait for Kafka's acknowledgements (a round trip to
   * every in-sync replica, tens of milliseconds on a loaded machine, paid again by every tick if it
   * did), the next tick of the queue does. A send that fails leaves its match pending until the
   * deadline, as before.
   */
  private int handOver(
      String queue,
      QueueCopy copy,
      List<Matchmaking.Group> chunk,
      List<Queues.Popped> popped,
      long now,
      Queue<CompletableFuture<Void>> started) {
    int taken = 0;
    for (int i = 0; i < chunk.size(); i++) {
      Queues.Popped p = popped.get(i);
      if (p.matchId().isEmpty()) {
        skipped.increment(); // the rest wait for the next tick
        copy.suspect(p.missing()); // a race (left since the read), or a ghost in the copy
        continue;
      }
      taken++;
      formed.increment();
      spread.record(chunk.get(i).spread());
      // Announced as the queue held them at the pop (the copy keeps no nicknames, and may be a
      // change behind).
      // Started at once, each: nothing later in this loop can keep a popped match's send from
      // going out.
      started.add(
          // Deferred: a throw while building the message fails this send only.
          Mono.defer(() -> handOff.send(queue, p.matchId().get(), p.players(), now, 1))
              .then()
              .onErrorResume(
                  e -> {
                    // HandOff.send answers a failure with false; this is a bug of ours.
                    log.warn("match.found send failed; the match waits for its deadline", e);
                    return Mono.empty();
                  })
              .toFuture()); // subscribed now
    }
    return taken;
  }

  /**
   * Ticks {@code queue} again while a tick takes as many matches as it may, for at most {@code
   * budget}: the other queues' locks are renewed only at their own ticks, so a run of one queue
   * must end well within the lock's time to live.
   */
  Flux<Integer> tickWhileFull(String queue, Duration budget) {
    return Flux.defer(
        () -> {
          long until = System.nanoTime() + budget.toNanos(); // from when the run starts
          return Mono.defer(() -> tick(queue))
              .onErrorResume(
                  e -> {
                    log.warn("matcher tick of {} failed", queue, e);
                    return Mono.just(0);
                  })
              .repeat(TICKS_IN_A_ROW - 1)
              .takeUntil(
                  formed ->
                      formed < settings.maxMatchesPerTick() || System.nanoTime() - until >= 0);
        });
  }

  /** The copy of {@code queue} was read whole: counted by reason, and said unless expected. */
  private void readWhole(String queue, String reason) {
    meters.counter("citadel_matcher_full_reads", "queue", queue, "reason", reason).increment();
    if (!reason.equals("first")) {
      log.info("matcher read queue {} whole: {}", queue, reason);
    }
  }

  /**
   * Ticks every queue every {@code interval} until stopped; then releases the locks (a graceful
   * stop finishes the ticks in hand first, so the next replica's matcher takes over at once instead
   * of waiting out the locks' time to live). A tick that formed as many matches as it may is
   * followed at once by another of the same queue (up to {@link #TICKS_IN_A_ROW}, and for at most
   * half the lock's time to live shared among the queues, then the next queue has its turn): the
   * bound keeps each tick short, not the matcher slow when a crowd arrives.
   */
  public GracefulLoop start(List<String> queueNames, Duration interval) {
    return GracefulLoop.start(
        "matcher",
        interval,
        () ->
            Flux.fromIterable(queueNames)
                .concatMap(
                    q -> tickWhileFull(q, settings.lockTtl().dividedBy(2L * queueNames.size()))),
        () -> Flux.fromIterable(queueNames).flatMap(q -> queues.unlock(q, owner)).then());
  }
}
