package dev.citadel.match.matcher;

import dev.citadel.match.queue.QueueFeed;
import java.util.function.Consumer;
import reactor.core.publisher.Mono;

/**
 * The matcher's copy of one queue's waiting players, sorted by Elo, kept up to date from the
 * queue's change feed: a tick reads only what changed since the last one (one script call for the
 * feed's position, range reads of the entries after the copy's), not the whole queue. The copy is
 * read whole (in pages of HSCAN) at first and again when the feed cannot continue it: a gap in the
 * change numbers (the feed was trimmed past this copy, or Redis lost its data and counts again from
 * 0), more changes behind than {@link #MAX_CATCH_UP}, a size that disagrees with the queue's (a
 * change made behind the feed's back), or a player a pop found gone still in the copy once it has
 * caught up ({@link #suspect}: a ghost; a player who merely left since the read is gone from the
 * copy by then), at most once per {@link #SUSPECT_READ_EVERY_NANOS}.
 *
 * <p>A copy may be behind the queue; that is safe because the pop script takes a group only if all
 * its players are still waiting (a stale group is skipped and counted). So a gap found while
 * replaying right after a whole read leaves the copy as it is for this tick and reads the queue
 * whole at the next one, instead of failing the tick. Not thread-safe: one tick at a time per copy
 * (the matcher's loop ticks its queues one after the other).
 */
final class QueueCopy {
  /**
   * Past this many changes behind, the queue is read whole. Far above a full tick's own changes
   * (the matcher's bound of 300 matches pops 3,000 players) and below the feed's length (about
   * 200,000), so a busy tick is caught up from the feed.
   */
  static final int MAX_CATCH_UP = 150_000;

  /** A ghost makes a tick read the queue whole, but not more often than this. */
  static final long SUSPECT_READ_EVERY_NANOS = 10_000_000_000L;

  private static final int PAGE = 10_000;

  private final QueueFeed queues;
  private final String queue;
  private final Consumer<String> fullRead;
  private final SortedWaiting waiting = new SortedWaiting();
  private boolean loaded;

  /**
   * Concurrent: a pop's answer adds to it on the Redis client's thread, and may come after its tick
   * failed, while the next tick reads it on the matcher's thread.
   */
  private final java.util.Set<String> suspects = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final long suspectReadEveryNanos;
  private long lastFullRead;
  private long count;
  private String lastId = "0-0";
  private long fullReads;

  /**
   * @param fullRead told the reason each time the queue is read whole (for a counter and the log)
   */
  QueueCopy(QueueFeed queues, String queue, Consumer<String> fullRead) {
    this(queues, queue, fullRead, SUSPECT_READ_EVERY_NANOS);
  }

  QueueCopy(QueueFeed queues, String queue, Consumer<String> fullRead, long suspectReadEveryNanos) {
    this.queues = queues;
    this.queue = queue;
    this.fullRead = fullRead;
    this.suspectReadEveryNanos = suspectReadEveryNanos;
    this.lastFullRead = System.nanoTime() - suspectReadEveryNanos;
  }

  QueueCopy(QueueFeed queues, String queue) {
    this(queues, queue, reason -> {});
  }

  /**
   * The waiting players in Elo order, as of now (caught up first): the copy itself, not a copy of a
   * million, valid until the next refresh.
   */
  Mono<SortedWaiting> refresh() {
    Mono<Void> caughtUp;
    if (!loaded) {
      caughtUp = readWhole(fullReads == 0 ? "first" : "gap");
    } else {
      caughtUp =
          queues
              .feedPosition(queue)
              .flatMap(
                  at -> {
                    if (at.count() == count && at.id().equals(lastId)) {
                      return agrees(at);
                    }
                    if (at.count() <= count) {
                      return readWhole("count went back"); // Redis lost its data
                    }
                    if (at.count() - count > MAX_CATCH_UP) {
                      return readWhole("far behind");
                    }
                    return follow(at.count(), false).then(Mono.defer(() -> agrees(at)));
                  });
    }
    return caughtUp
        .then(Mono.defer(this::ghosts))
        .then(
            Mono.fromSupplier(
                () -> {
                  waiting.settle();
                  return waiting;
                }));
  }

  /**
   * A pop found {@code player}, of a group this copy formed, no longer waiting: a race (the player
   * left after the read, and the feed takes it out of the copy) or a ghost (gone behind the feed's
   * back: it stays), told apart at the next refresh.
   */
  void suspect(String player) {
    if (player != null) {
      suspects.add(player);
    }
  }

  /** Caught up: a suspect still in the copy is a ghost, and the queue is read whole. */
  private Mono<Void> ghosts() {
    if (suspects.isEmpty()) {
      return Mono.empty();
    }
    suspects.removeIf(p -> !waiting.contains(p));
    if (!suspects.isEmpty() && System.nanoTime() - lastFullRead >= suspectReadEveryNanos) {
      return readWhole("ghost");
    }
    return Mono.empty(); // none, or read whole too recently: checked again next tick
  }

  /** How many times the queue was read whole. */
  long fullReads() {
    return fullReads;
  }

  private Mono<Void> readWhole(String reason) {
    return queues
        .snapshotWithPosition(queue)
        .flatMap(
            snapshot -> {
              fullReads++;
              fullRead.accept(reason);
              lastFullRead = System.nanoTime();
              suspects.clear();
              waiting.clear();
              snapshot.tickets().forEach(waiting::put);
              count = snapshot.position().count();
              lastId = snapshot.position().id();
              loaded = true;
              // Changes made after the position may or may not be in the snapshot (it is read in
              // pages); following them all puts each player right (the last change wins).
              return follow(Long.MAX_VALUE, true);
            });
  }

  /**
   * A copy caught up to exactly the position's count holds exactly as many players as the queue did
   * then; otherwise the queue was changed behind the feed's back (a key deleted by hand, a script
   * of an older version) and is read whole.
   */
  private Mono<Void> agrees(QueueFeed.FeedPosition at) {
    if (loaded && count == at.count() && waiting.waiting() != at.waiting()) {
      return readWhole("size differs from the queue's");
    }
    return Mono.empty();
  }

  /**
   * Applies the feed after {@link #lastId}, up to {@code target} changes (or all there are). A gap
   * reads the queue whole; right after a whole read ({@code replaying}) it leaves the copy for this
   * tick and marks it for a whole read at the next.
   */
  private Mono<Void> follow(long target, boolean replaying) {
    return Mono.defer(
        () -> {
          if (count >= target) {
            return Mono.empty();
          }
          int asked = (int) Math.min(PAGE, target - count);
          return queues
              .changesAfter(queue, lastId, asked)
              .flatMap(
                  page -> {
                    for (QueueFeed.Change c : page.changes()) {
                      if (count >= target) {
                        // The position read falls between entries: stopping here (the entries
                        // after it are read next tick) lets agrees() compare the sizes at it.
                        return Mono.<Void>empty();
                      }
                      if (c.number() != count + 1) {
                        return gap(replaying);
                      }
                      apply(c);
                    }
                    if (page.entries() < asked) {
                      if (target != Long.MAX_VALUE && count < target) {
                        return gap(replaying); // fewer changes kept than counted
                      }
                      return Mono.<Void>empty();
                    }
                    return follow(target, replaying);
                  });
        });
  }

  private Mono<Void> gap(boolean replaying) {
    if (replaying) {
      loaded = false; // this tick uses the copy as it is; the next reads the queue whole
      return Mono.empty();
    }
    return readWhole("gap");
  }

  private void apply(QueueFeed.Change c) {
    if (c.ticket() != null) {
      waiting.put(c.ticket());
    } else {
      waiting.remove(c.playerId());
    }
    count = c.number();
    lastId = c.id();
  }

  /** The copy's change count, for tests. */
  long count() {
    return count;
  }
}
