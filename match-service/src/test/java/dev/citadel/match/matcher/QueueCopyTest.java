package dev.citadel.match.matcher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.Matchmaking;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.queue.Queues;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/**
 * The matcher's copy of a queue follows the queue's change feed in real Redis: after any mix of
 * joins, cancels, pops and requeues it equals the queue read whole, and it reads the queue whole
 * again only when the feed cannot continue it (trimmed past it, or Redis lost its data).
 */
@CitadelInfra
class QueueCopyTest {
  static final long NOW = 1_700_000_000_000L;
  static LettuceConnectionFactory factory;
  static ReactiveStringRedisTemplate redis;
  static Queues queues;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    redis = new ReactiveStringRedisTemplate(factory);
    queues = new Queues(redis);
  }

  @AfterAll
  static void close() {
    factory.destroy();
  }

  static List<Ticket> players(int n, int eloFrom) {
    return IntStream.range(0, n)
        .mapToObj(i -> new Ticket("p-" + UUID.randomUUID(), eloFrom + i * 7, NOW + i, "nick" + i))
        .toList();
  }

  /**
   * The queue as a whole read reads it, in the copy's order, as the copy keeps it (no nicknames).
   */
  static List<Ticket> whole(String queue) {
    List<Ticket> all = new ArrayList<>();
    for (Ticket t : queues.snapshot(queue).block()) {
      all.add(new Ticket(t.playerId(), t.elo(), t.enqueuedAtMs(), null));
    }
    all.sort(Matchmaking.BY_ELO);
    return all;
  }

  /**
   * A whole read comes in pages (HSCAN) while players join and leave: what the pages missed or saw
   * twice, the feed's changes after the read's position put right, with no second whole read.
   */
  @Test
  void a_whole_read_in_pages_while_players_come_and_go_is_put_right_by_the_feed() {
    String queue = "paged-" + UUID.randomUUID();
    List<Ticket> start = players(60_000, 500);
    reactor.core.publisher.Flux.range(0, start.size() / 5_000)
        .concatMap(b -> queues.enqueue(queue, start.subList(b * 5_000, (b + 1) * 5_000), NOW))
        .blockLast();
    QueueCopy copy = new QueueCopy(queues.feed(), queue);
    // Players come and go for as long as the whole read lasts (and no longer).
    reactor.core.publisher.Sinks.Empty<Void> readDone = reactor.core.publisher.Sinks.empty();
    java.util.concurrent.atomic.AtomicInteger rounds =
        new java.util.concurrent.atomic.AtomicInteger();
    var comingAndGoing =
        reactor.core.publisher.Flux.range(0, 1_199)
            .concatMap(
                i ->
                    queues
                        .cancel(queue, start.get(i * 50).playerId())
                        .then(queues.enqueue(queue, players(5, 100_000 + i), NOW + i))
                        .doOnNext(done -> rounds.incrementAndGet()))
            .takeUntilOther(readDone.asMono())
            .subscribeOn(reactor.core.scheduler.Schedulers.boundedElastic())
            .then()
            .toFuture();
    copy.refresh().block();
    readDone.tryEmitEmpty();
    comingAndGoing.join();
    assertThat(rounds.get()).as("players came and went during the read").isPositive();
    assertThat(copy.refresh().block().list()).containsExactlyElementsOf(whole(queue));
    assertThat(copy.fullReads()).isEqualTo(1);
  }

  @Test
  void joins_cancels_pops_and_requeues_are_followed_without_reading_the_queue_again() {
    String queue = "copy-" + UUID.randomUUID();
    QueueCopy copy = new QueueCopy(queues.feed(), queue);
    List<Ticket> first = players(30, 1000);
    queues.enqueue(queue, first, NOW).block();
    assertThat(copy.refresh().block().list()).containsExactlyElementsOf(whole(queue)).hasSize(30);

    queues.cancel(queue, first.get(3).playerId()).block();
    queues.enqueue(queue, players(5, 2000), NOW + 100).block();
    List<String> ten = first.subList(10, 20).stream().map(Ticket::playerId).toList();
    String matchId =
        queues.popAll(queue, List.of(ten), NOW + 200, NOW + 10_000).block().get(0).get();
    assertThat(copy.refresh().block().list())
        .containsExactlyElementsOf(whole(queue))
        .hasSize(30 - 1 + 5 - 10);

    // The match given back: its players wait again with their first enqueue time.
    queues.requeue(queue, matchId).block();
    assertThat(copy.refresh().block().list()).containsExactlyElementsOf(whole(queue)).hasSize(34);
    assertThat(copy.fullReads()).as("only the first load read the queue whole").isEqualTo(1);
    assertThat(copy.count()).isEqualTo(30 + 1 + 5 + 10 + 10);
  }

  @Test
  void a_feed_trimmed_past_the_copy_is_a_gap_and_the_queue_is_read_whole() {
    String queue = "copy-" + UUID.randomUUID();
    QueueCopy copy = new QueueCopy(queues.feed(), queue);
    queues.enqueue(queue, players(12, 1000), NOW).block();
    copy.refresh().block();
    queues.enqueue(queue, players(4, 1500), NOW).block();
    // Everything the copy has not read yet is trimmed away (as MAXLEN does under a burst).
    redis.opsForStream().trim("{mq}:" + queue + ":changes", 0).block();
    queues.enqueue(queue, players(3, 1800), NOW).block();

    assertThat(copy.refresh().block().list()).containsExactlyElementsOf(whole(queue)).hasSize(19);
    assertThat(copy.fullReads()).isEqualTo(2);
  }

  @Test
  void a_queue_changed_behind_the_feed_s_back_is_read_whole() {
    String queue = "copy-" + UUID.randomUUID();
    QueueCopy copy = new QueueCopy(queues.feed(), queue);
    List<Ticket> ten = players(10, 1000);
    queues.enqueue(queue, ten, NOW).block();
    copy.refresh().block();
    // A player removed by hand (not by a script): no change in the feed, one player fewer.
    redis.opsForHash().remove("{mq}:" + queue + ":tickets", ten.get(0).playerId()).block();

    assertThat(copy.refresh().block().list()).containsExactlyElementsOf(whole(queue)).hasSize(9);
    assertThat(copy.fullReads()).isEqualTo(2);
  }

  @Test
  void a_ghost_the_size_check_cannot_see_is_found_by_the_pop_that_skips_its_group() {
    String queue = "copy-" + UUID.randomUUID();
    List<String> reasons = new ArrayList<>();
    QueueCopy copy = new QueueCopy(queues.feed(), queue, reasons::add, 0);
    List<Ticket> ten = players(10, 1000);
    queues.enqueue(queue, ten, NOW).block();
    copy.refresh().block();

    // A race: a player left (through the script) after the read; the pop skipped its group.
    queues.cancel(queue, ten.get(1).playerId()).block();
    copy.suspect(ten.get(1).playerId());
    assertThat(copy.refresh().block().list()).containsExactlyElementsOf(whole(queue));
    assertThat(reasons).as("a race is no ghost: no whole read").containsExactly("first");

    // One player gone and another come, both by hand: the sizes still agree.
    String tickets = "{mq}:" + queue + ":tickets";
    redis.opsForHash().remove(tickets, ten.get(0).playerId()).block();
    redis.opsForHash().put(tickets, "p-by-hand", "1003|" + NOW + "|nick").block();
    assertThat(copy.refresh().block().list())
        .extracting(Ticket::playerId)
        .contains(ten.get(0).playerId());

    copy.suspect(ten.get(0).playerId()); // the matcher's pop skipped a group with the ghost in it
    assertThat(copy.refresh().block().list()).containsExactlyElementsOf(whole(queue));
    assertThat(reasons).containsExactly("first", "ghost");
  }

  @Test
  void redis_that_lost_its_data_counts_again_and_the_queue_is_read_whole() {
    String queue = "copy-" + UUID.randomUUID();
    QueueCopy copy = new QueueCopy(queues.feed(), queue);
    queues.enqueue(queue, players(20, 1000), NOW).block();
    copy.refresh().block();
    // Every key of the queue gone, as after a Redis restart without persistence.
    redis
        .delete(
            "{mq}:" + queue + ":tickets",
            "{mq}:" + queue + ":changes",
            "{mq}:" + queue + ":change-count")
        .block();
    queues.enqueue(queue, players(3, 1200), NOW).block();

    assertThat(copy.refresh().block().list()).containsExactlyElementsOf(whole(queue)).hasSize(3);
    assertThat(copy.fullReads()).isEqualTo(2);
  }
}
