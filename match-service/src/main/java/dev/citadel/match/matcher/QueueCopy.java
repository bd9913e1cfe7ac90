package dev.citadel.match.matcher;

import dev.citadel.match.queue.Queues;
import reactor.core.publisher.Mono;

/**
 * The matcher's copy of one queue's waiting players, sorted by Elo, kept up to date from the
 * queue's change feed: a tick reads only what changed since the last one (one script call for the
 * feed's position, one range read), not the whole queue. The copy is read whole (HGETALL) only at
 * first, and again when the feed cannot continue it: a gap in the change numbers (the feed was
 * trimmed past this copy, or Redis lost its data and counts again from 0), or more changes behind
 * than {@link #MAX_CATCH_UP}.
 *
 * <p>A copy may be behind the queue by the changes of one tick; that is safe because the pop script
 * takes a group only if all its players are still waiting (a stale group is skipped and counted).
 */
final class QueueCopy {
  /** Past this many changes behind, reading the queue whole is the cheaper catch-up. */
  static final int MAX_CATCH_UP = 50_000;

  private static final int PAGE = 10_000;

  private final Queues queues;
  private final String queue;
  private final SortedWaiting waiting = new SortedWaiting();
  private boolean loaded;
  private long count;
  private String lastId = "0-0";
  private long fullReads;

  QueueCopy(Queues queues, String queue) {
    this.queues = queues;
    this.queue = queue;
  }

  /**
   * The waiting players in Elo order, as of now (caught up first): the copy itself, not a copy of a
   * million, valid until the next refresh.
   */
  Mono<SortedWaiting> refresh() {
    Mono<Void> caughtUp =
        loaded
            ? queues
                .feedPosition(queue)
                .flatMap(
                    at -> {
                      if (at.count() == count && at.id().equals(lastId)) {
                        return agrees(at);
                      }
                      if (at.count() <= count || at.count() - count > MAX_CATCH_UP) {
                        return readWhole(1); // Redis counts again (lost data), or far behind
                      }
                      return follow(at.count(), 0).then(Mono.defer(() -> agrees(at)));
                    })
            : readWhole(1);
    return caughtUp.then(
        Mono.fromSupplier(
            () -> {
              waiting.settle();
              return waiting;
            }));
  }

  /** How many times the queue was read whole (first load, gaps): a gauge for operators. */
  long fullReads() {
    return fullReads;
  }

  /** More full reads than this in one refresh: the feed churns faster than it can be read. */
  private static final int MAX_FULL_READS = 3;

  private Mono<Void> readWhole(int attempt) {
    if (attempt > MAX_FULL_READS) {
      return Mono.error(
          new IllegalStateException(
              "the change feed of " + queue + " kept a gap after " + MAX_FULL_READS + " reads"));
    }
    return queues
        .snapshotWithPosition(queue)
        .flatMap(
            snapshot -> {
              fullReads++;
              waiting.clear();
              snapshot.tickets().forEach(waiting::put);
              count = snapshot.position().count();
              lastId = snapshot.position().id();
              loaded = true;
              // Changes made between the position and the read are in the snapshot already;
              // following them again is harmless (the last change of a player wins either way).
              return follow(Long.MAX_VALUE, attempt);
            });
  }

  /**
   * A copy caught up to exactly the position's count holds exactly as many players as the queue did
   * then; otherwise the queue was changed behind the feed's back (a key deleted by hand, a script
   * of an older version) and is read whole.
   */
  private Mono<Void> agrees(Queues.FeedPosition at) {
    if (loaded && count == at.count() && waiting.waiting() != at.waiting()) {
      loaded = false;
      return readWhole(1);
    }
    return Mono.empty();
  }

  /** Applies the feed after {@link #lastId}, up to {@code target} changes (or all there are). */
  private Mono<Void> follow(long target, int fullReadsSoFar) {
    return Mono.defer(
        () -> {
          if (count >= target) {
            return Mono.empty();
          }
          return queues
              .changesAfter(queue, lastId, (int) Math.min(PAGE, target - count))
              .collectList()
              .flatMap(
                  page -> {
                    for (Queues.Change c : page) {
                      if (c.number() != count + 1) {
                        loaded = false; // a gap: the feed cannot continue this copy
                        return readWhole(fullReadsSoFar + 1);
                      }
                      apply(c);
                    }
                    if (page.size() < PAGE) {
                      if (target != Long.MAX_VALUE && count < target) {
                        loaded = false; // fewer changes kept than counted: trimmed or lost
                        return readWhole(fullReadsSoFar + 1);
                      }
                      return Mono.<Void>empty();
                    }
                    return follow(target, fullReadsSoFar);
                  });
        });
  }

  private void apply(Queues.Change c) {
    if (c.ticket() != null) {
      waiting.put(c.ticket());
    } else {
      waiting.remove(c.playerId());
    }
    count = c.number();
    lastId = c.id();
  }

  /** The copy's change count and size, for tests. */
  long count() {
    return count;
  }

  int size() {
    return waiting.waiting();
  }
}
