package dev.citadel.gamestate.leaderboard;

import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The leaderboards written again from the journal when Redis no longer has them (a flush, a restart
 * without persistence, a failover to an empty replica): otherwise they stayed empty, or partial,
 * until each player happened to gain experience or play a rated game. Redis keeps a marker once the
 * leaderboards are complete; it goes with them, and its absence starts a rebuild on one instance (a
 * lock). Every player's rows are read from the journal, a page at a time, and written with the same
 * script as live updates, which keeps whatever is newer (experience only rises, a rating by its
 * number of games, a nickname by its version): live updates go on meanwhile and are never undone.
 */
public final class LeaderboardRebuild {
  private static final Logger log = LoggerFactory.getLogger(LeaderboardRebuild.class);
  static final String BUILT = "{leaderboard}:built";
  static final String LOCK = "{leaderboard}:rebuilding";

  /**
   * Players the last rebuild could not read (a type this version does not know: a newer version's,
   * during a rolling update): each check reads them again, so the version that can read them writes
   * them, without a whole rebuild.
   */
  static final String SKIPPED = "{leaderboard}:skipped";

  static final int PAGE = 200;
  static final int READS_AT_ONCE = 4;
  static final Duration LOCK_TTL = Duration.ofMinutes(2);

  private static final RedisScript<Long> RELEASE =
      RedisScript.of(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end"
              + " return 0",
          Long.class);

  /** The marker is set only by the lock's holder: a rebuild whose lock lapsed marks nothing. */
  private static final RedisScript<Long> MARK_BUILT =
      RedisScript.of(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then"
              + " redis.call('SET', KEYS[2], ARGV[2]) return 1 end return 0",
          Long.class);

  private static final RedisScript<Long> RENEW =
      RedisScript.of(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then"
              + " return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
          Long.class);

  private final PostgresEventStore store;
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final ReactiveStringRedisTemplate redis;
  private final String owner = UUID.randomUUID().toString();
  private final Counter rebuilt;
  private final Counter skipped;
  private final Duration lockTtl;

  public LeaderboardRebuild(
      PostgresEventStore store,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      ReactiveStringRedisTemplate redis,
      MeterRegistry meters) {
    this(store, players, redis, meters, LOCK_TTL);
  }

  /**
   * @param lockTtl how long the lock lasts unless renewed; it is renewed every third of it while
   *     the rebuild runs, whatever a page takes
   */
  LeaderboardRebuild(
      PostgresEventStore store,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      ReactiveStringRedisTemplate redis,
      MeterRegistry meters,
      Duration lockTtl) {
    this.lockTtl = lockTtl;
    this.store = store;
    this.players = players;
    this.redis = redis;
    this.rebuilt =
        Counter.builder("citadel_leaderboard_rebuilds")
            .description("Leaderboards written again from the journal (Redis had lost them)")
            .register(meters);
    this.skipped =
        Counter.builder("citadel_leaderboard_rebuild_skipped")
            .description("Players a rebuild could not read from the journal (logged each)")
            .register(meters);
  }

  /**
   * Rebuilds if the leaderboards are not known complete and no other instance is at it; whether
   * this call rebuilt them.
   */
  public Mono<Boolean> rebuildIfLost() {
    return redis
        .hasKey(BUILT)
        .flatMap(
            built ->
                built
                    ? retrySkipped().thenReturn(false)
                    : redis
                        .opsForValue()
                        .setIfAbsent(LOCK, owner, lockTtl)
                        .flatMap(locked -> locked ? rebuildHoldingTheLock() : Mono.just(false)));
  }

  private Mono<Boolean> rebuildHoldingTheLock() {
    log.info("leaderboards not known complete in Redis: rebuilding them from the journal");
    // Renewed on a timer, not after each page: a page waits for loads behind the live ones and
    // may take longer than the lock lasts (a second instance then started a rebuild of its own).
    // When the lock ends by this clock (a tenth early: the lock was taken just before): moved on
    // by each renewal that succeeds. Renewals that fail (Redis out of this instance's reach) do
    // not count as renewed: past it, another instance may hold the lock and rebuild.
    long held = lockTtl.toNanos() - lockTtl.toNanos() / 10;
    java.util.concurrent.atomic.AtomicLong lockEnds =
        new java.util.concurrent.atomic.AtomicLong(System.nanoTime() + held);
    Mono<Long> lockLost =
        Flux.interval(lockTtl.dividedBy(3))
            .concatMap(
                t -> {
                  long sent = System.nanoTime();
                  return redis
                      .execute(
                          RENEW, List.of(LOCK), List.of(owner, Long.toString(lockTtl.toMillis())))
                      .next()
                      .timeout(lockTtl.dividedBy(3))
                      .doOnNext(
                          renewed -> {
                            if (renewed == 1) {
                              lockEnds.set(sent + held);
                            }
                          })
                      // Not known (Redis away for a moment): the deadline below tells.
                      .onErrorResume(e -> Mono.just(1L));
                })
            .filter(renewed -> renewed == 0)
            .next()
            // Another instance took over (ours lapsed): it rebuilds, not both.
            .flatMap(lost -> Mono.error(new IllegalStateException("rebuild lock lost")));
    Mono<Long> runOut =
        Flux.interval(lockTtl.dividedBy(20))
            .filter(t -> System.nanoTime() - lockEnds.get() > 0)
            .next()
            .then(Mono.error(new IllegalStateException("rebuild lock ran out, not renewed")));
    return Mono.firstWithSignal(rebuild(), lockLost, runOut)
        .flatMap(
            count ->
                redis
                    .execute(MARK_BUILT, List.of(LOCK, BUILT), List.of(owner, Long.toString(count)))
                    .next()
                    .flatMap(
                        marked -> {
                          if (marked == 0) {
                            return Mono.error(new IllegalStateException("rebuild lock lost"));
                          }
                          log.info("leaderboards rebuilt: {} players", count);
                          rebuilt.increment();
                          return Mono.just(true);
                        }))
        // A rebuild cut short leaves no marker: the next check, here or elsewhere, starts again.
        .doFinally(
            signal ->
                redis
                    .execute(RELEASE, List.of(LOCK), List.of(owner))
                    .subscribe(
                        released -> {},
                        e ->
                            log.debug("rebuild lock not released (it expires): {}", e.toString())));
  }

  /** Every player's rows, page by page; how many players. */
  Mono<Long> rebuild() {
    return page("")
        .expand(ids -> ids.size() < PAGE ? Mono.empty() : page(ids.get(ids.size() - 1)))
        .concatMap(this::writePage)
        .reduce(0L, Long::sum);
  }

  private Mono<List<String>> page(String after) {
    return store.streamIds(PlayerAggregate.NAME, after, PAGE).collectList();
  }

  private Mono<Long> writePage(List<String> ids) {
    List<String> unread = new java.util.concurrent.CopyOnWriteArrayList<>();
    return Flux.fromIterable(ids)
        .flatMapSequential(id -> rowsOf(id, unread, true), READS_AT_ONCE)
        .collectList()
        .flatMap(
            rows -> {
              List<Leaderboard.Update> all = rows.stream().flatMap(List::stream).toList();
              Mono<Void> written = all.isEmpty() ? Mono.empty() : Leaderboard.write(redis, all);
              Mono<Long> noted =
                  unread.isEmpty()
                      ? Mono.just(0L)
                      : redis.opsForSet().add(SKIPPED, unread.toArray(String[]::new));
              return written.then(noted).thenReturn((long) rows.size());
            });
  }

  /**
   * A player's rows, read from the journal. One that cannot be read (a type this version does not
   * know, its journal cut before a snapshot this version cannot read) must not stop the others, at
   * every check, for good: it is skipped, counted and noted in {@link #SKIPPED}. Anything else (the
   * database away for a moment) fails the rebuild: no marker, the next check starts again, rather
   * than leaving players out for good.
   */
  private Mono<List<Leaderboard.Update>> rowsOf(String id, List<String> unread, boolean count) {
    return players
        .readFromJournal(id)
        // Live loads come first: a refusal for their sake waits a little.
        .retryWhen(
            reactor.util.retry.Retry.backoff(60, Duration.ofMillis(100))
                .maxBackoff(Duration.ofSeconds(1))
                .filter(e -> e instanceof dev.citadel.gamestate.aggregate.Overloaded))
        .filter(read -> read.state().exists())
        .map(read -> Leaderboard.rows(id, read.state(), read.version()))
        .onErrorResume(
            LeaderboardRebuild::unreadable,
            e -> {
              unread.add(id);
              if (count) { // counted and logged once, not at every check that reads it again
                skipped.increment();
                log.warn("leaderboard rebuild skips {}: {}", id, e.toString());
              }
              return Mono.empty();
            });
  }

  /**
   * The players a rebuild skipped, read again (a page at a time): those this version reads now are
   * written and leave the set; the others stay for a version that can.
   */
  private Mono<Void> retrySkipped() {
    return redis
        .opsForSet()
        .distinctRandomMembers(SKIPPED, PAGE) // at random: a few never read do not hide the rest
        .collectList()
        .flatMap(
            ids -> {
              if (ids.isEmpty()) {
                return Mono.<Void>empty();
              }
              List<String> still = new java.util.concurrent.CopyOnWriteArrayList<>();
              return Flux.fromIterable(ids)
                  .flatMapSequential(
                      id -> rowsOf(id, still, false).defaultIfEmpty(List.of()), READS_AT_ONCE)
                  .collectList()
                  .flatMap(
                      rows -> {
                        List<Leaderboard.Update> all = rows.stream().flatMap(List::stream).toList();
                        List<String> done = ids.stream().filter(id -> !still.contains(id)).toList();
                        Mono<Void> written =
                            all.isEmpty() ? Mono.empty() : Leaderboard.write(redis, all);
                        return written.then(
                            done.isEmpty()
                                ? Mono.<Void>empty()
                                : redis
                                    .opsForSet()
                                    .remove(SKIPPED, done.toArray())
                                    .doOnNext(
                                        n ->
                                            log.info(
                                                "leaderboard: {} players skipped by a rebuild"
                                                    + " written now",
                                                n))
                                    .then());
                      });
            });
  }

  /**
   * A player this version can never read: a snapshot of another type before which the journal was
   * cut, an event or snapshot it cannot decode (a newer version's type, corrupt bytes). Not the
   * database or the host being unavailable for now.
   */
  static boolean unreadable(Throwable e) {
    return e instanceof dev.citadel.gamestate.aggregate.UnreadableSnapshot
        || e instanceof IllegalArgumentException
        || e instanceof com.google.protobuf.InvalidProtocolBufferException
        || e.getCause() instanceof com.google.protobuf.InvalidProtocolBufferException;
  }

  /** Checks now and every {@code interval}. */
  public Disposable start(Duration interval) {
    return Flux.interval(Duration.ZERO, interval)
        .onBackpressureDrop()
        .concatMap(
            t ->
                rebuildIfLost()
                    .onErrorResume(
                        e -> {
                          log.warn("leaderboard rebuild failed; checked again in {}", interval, e);
                          return Mono.just(false);
                        }),
            1)
        .subscribe();
  }
}
