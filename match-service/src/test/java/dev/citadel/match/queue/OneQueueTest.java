package dev.citadel.match.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.Ticket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * A player waits, is matched or plays in one queue at a time, whatever the queue, in real Redis.
 */
@CitadelInfra
class OneQueueTest {
  static final long NOW = 1_700_000_000_000L;
  static LettuceConnectionFactory factory;
  static Queues queues;
  static String ranked;
  static String casual;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    ranked = "ranked-" + UUID.randomUUID();
    casual = "casual-" + UUID.randomUUID();
    queues = new Queues(new ReactiveStringRedisTemplate(factory), List.of(ranked, casual));
  }

  @AfterAll
  static void close() {
    factory.destroy();
  }

  static Ticket ticket(String player) {
    return new Ticket(player, 1500, NOW, "nick");
  }

  @Test
  void a_player_waiting_matched_or_playing_in_one_queue_cannot_join_another() {
    String waiting = "p-" + UUID.randomUUID();
    assertThat(queues.enqueue(ranked, List.of(ticket(waiting)), NOW).block())
        .containsExactly(Enqueued.OK);
    assertThat(queues.enqueue(casual, List.of(ticket(waiting)), NOW).block())
        .containsExactly(Enqueued.elsewhere(ranked));
    assertThat(queues.status(casual, waiting).block().state().name()).isEqualTo("NOT_QUEUED");

    // Matched (popped into a pending match) and then in a game: still refused elsewhere.
    List<Ticket> ten = new ArrayList<>();
    IntStream.range(0, 10).forEach(i -> ten.add(ticket("m-" + UUID.randomUUID())));
    queues.enqueue(ranked, ten, NOW).block();
    List<String> players = ten.stream().map(Ticket::playerId).toList();
    String match =
        queues.popAll(ranked, List.of(players), NOW, NOW + 10_000).block().get(0).orElseThrow();
    assertThat(queues.enqueue(casual, List.of(ten.get(0)), NOW).block())
        .containsExactly(Enqueued.elsewhere(ranked));
    queues.assignAll(ranked, List.of(new Queues.Assignment(match, 1, 2, players.get(0)))).block();
    assertThat(queues.enqueue(casual, List.of(ten.get(1)), NOW).block())
        .containsExactly(Enqueued.elsewhere(ranked));

    // Left the queue: free to join another.
    assertThat(queues.cancel(ranked, waiting).block()).isEqualTo(Cancelled.CANCELLED);
    assertThat(queues.enqueue(casual, List.of(ticket(waiting)), NOW).block())
        .containsExactly(Enqueued.OK);
  }

  /**
   * A queue is read whole in pages (HSCAN, as Redis counts the calls), every player once: one
   * HGETALL held the connection every command shares until all of it was read (at a million
   * players, 2-4 s of joins and pops waiting behind it).
   */
  /** Calls of each command so far, from Redis's own count ({@code INFO commandstats}). */
  static Map<String, Long> commandCalls() {
    Map<String, Long> calls = new java.util.HashMap<>();
    try (var client = io.lettuce.core.RedisClient.create(SharedInfra.redis().url());
        var lettuce = client.connect()) {
      for (String line : lettuce.sync().info("commandstats").split("\r?\n")) {
        if (line.startsWith("cmdstat_")) {
          String name = line.substring("cmdstat_".length(), line.indexOf(':'));
          String rest = line.substring(line.indexOf("calls=") + "calls=".length());
          calls.put(name, Long.parseLong(rest.substring(0, rest.indexOf(','))));
        }
      }
    }
    return calls;
  }

  @Test
  void a_whole_read_comes_in_pages() {
    String queue = "whole-" + UUID.randomUUID();
    Queues big = new Queues(new ReactiveStringRedisTemplate(factory), List.of(queue));
    int n = 6 * Queues.WHOLE_READ_PAGE;
    Flux.range(0, n / 5_000)
        .concatMap(
            b -> {
              List<Ticket> batch = new ArrayList<>();
              IntStream.range(b * 5_000, (b + 1) * 5_000)
                  .forEach(i -> batch.add(new Ticket("w-" + i, 1000 + i % 700, NOW, "n" + i)));
              return big.enqueue(queue, batch, NOW, false);
            })
        .blockLast();
    Map<String, Long> before = commandCalls();
    List<Ticket> all = big.snapshot(queue).block();
    Map<String, Long> after = commandCalls();
    assertThat(after.getOrDefault("hgetall", 0L)).isEqualTo(before.getOrDefault("hgetall", 0L));
    assertThat(after.getOrDefault("hscan", 0L) - before.getOrDefault("hscan", 0L))
        .as("pages asked for")
        .isGreaterThanOrEqualTo(n / Queues.WHOLE_READ_PAGE);
    assertThat(all).hasSize(n);
    assertThat(all.stream().map(Ticket::playerId).distinct()).hasSize(n);
    assertThat(all).contains(new Ticket("w-7", 1007, NOW, "n7"));
  }

  /**
   * A bulk enqueue writes the players it lets in together: a player twice in one call still gets
   * one ticket (the second answer is QUEUED), and every ticket is in the queue and its change feed.
   */
  @Test
  void a_large_enqueue_lets_each_player_in_once_and_feeds_every_change() {
    String queue = "bulk-" + UUID.randomUUID();
    Queues bulk = new Queues(new ReactiveStringRedisTemplate(factory), List.of(queue));
    List<Ticket> players = new ArrayList<>();
    IntStream.range(0, 5_000).forEach(i -> players.add(ticket("b-" + i + "-" + UUID.randomUUID())));
    players.add(2_500, players.get(10)); // the same player again, mid-call
    List<Enqueued> answers = bulk.enqueue(queue, players, NOW, false).block(); // no presence
    assertThat(answers).hasSize(5_001);
    assertThat(answers.get(2_500).outcome()).isEqualTo(Enqueued.Outcome.QUEUED);
    assertThat(answers.stream().filter(a -> a.outcome() == Enqueued.Outcome.OK)).hasSize(5_000);
    assertThat(bulk.snapshot(queue).block()).hasSize(5_000);
    QueueFeed.FeedPosition at = bulk.feed().feedPosition(queue).block();
    assertThat(at.count()).isEqualTo(5_000);
    assertThat(at.waiting()).isEqualTo(5_000);
    List<QueueFeed.Change> changes =
        bulk.feed().changesAfter(queue, "0-0", 10_000).block().changes();
    assertThat(changes).hasSize(5_000);
    for (int i = 0; i < changes.size(); i++) {
      assertThat(changes.get(i).number()).isEqualTo(i + 1);
    }
    assertThat(changes.get(10).ticket()).isNotNull();
    assertThat(bulk.status(queue, players.get(10).playerId()).block().state().name())
        .isEqualTo("WAITING");
  }

  /** A group naming a player twice is refused whole: nobody leaves the queue for a short match. */
  @Test
  void a_group_with_a_player_twice_is_refused_and_everyone_still_waits() {
    String queue = "twice-" + UUID.randomUUID();
    Queues one = new Queues(new ReactiveStringRedisTemplate(factory), List.of(queue));
    List<Ticket> nine = new ArrayList<>();
    IntStream.range(0, 9).forEach(i -> nine.add(ticket("t-" + i + "-" + UUID.randomUUID())));
    one.enqueue(queue, nine, NOW).block();
    List<String> group = new ArrayList<>(nine.stream().map(Ticket::playerId).toList());
    group.add(group.get(3));
    Queues.Popped popped = one.popGroups(queue, List.of(group), NOW, NOW + 10_000).block().get(0);
    assertThat(popped.matchId()).isEmpty();
    assertThat(popped.missing()).isEqualTo(group.get(3));
    assertThat(one.snapshot(queue).block()).hasSize(9);
    assertThat(one.feed().feedPosition(queue).block().count()).isEqualTo(9);
  }

  /**
   * A popped match's players leave the feed in one entry, numbered on from the joins, and the pop
   * answers them as stored.
   */
  @Test
  void a_popped_match_is_one_feed_entry_of_all_its_players() {
    String queue = "grouped-" + UUID.randomUUID();
    Queues one = new Queues(new ReactiveStringRedisTemplate(factory), List.of(queue));
    List<Ticket> ten = new ArrayList<>();
    IntStream.range(0, 10)
        .forEach(
            i -> ten.add(new Ticket("g-" + i + "-" + UUID.randomUUID(), 1400 + i, NOW, "n" + i)));
    one.enqueue(queue, ten, NOW, false).block();
    String lastJoin = one.feed().feedPosition(queue).block().id();
    List<String> players = ten.stream().map(Ticket::playerId).toList();
    Queues.Popped popped = one.popGroups(queue, List.of(players), NOW, NOW + 10_000).block().get(0);
    assertThat(popped.matchId()).isPresent();
    // The match is announced with each player as the queue held them (the matcher's copy keeps
    // no nicknames): id, Elo and nickname, in the group's order.
    assertThat(popped.players())
        .extracting(Ticket::playerId, Ticket::elo, Ticket::nickname)
        .containsExactlyElementsOf(
            ten.stream()
                .map(t -> org.assertj.core.groups.Tuple.tuple(t.playerId(), t.elo(), t.nickname()))
                .toList());

    QueueFeed.ChangePage page = one.feed().changesAfter(queue, lastJoin, 100).block();
    assertThat(page.entries()).isEqualTo(1);
    assertThat(page.changes()).hasSize(10);
    for (int i = 0; i < 10; i++) {
      QueueFeed.Change c = page.changes().get(i);
      assertThat(c.number()).isEqualTo(11 + i);
      assertThat(c.playerId()).isEqualTo(players.get(i));
      assertThat(c.ticket()).as("a leave").isNull();
    }
    assertThat(one.feed().feedPosition(queue).block().count()).isEqualTo(20);
  }

  /** An answer that does not hold exactly the groups asked for is refused before any send. */
  @Test
  void a_pop_answer_of_another_shape_is_refused() {
    List<String> taken = List.of("m-1", "p1", "1500|0|a", "p2", "1500|0|b");
    assertThat(Queues.popped(taken, 1, 2).get(0).players())
        .extracting(Ticket::playerId)
        .containsExactly("p1", "p2");
    List<String> skippedThenTaken = new ArrayList<>(List.of("", "p9"));
    skippedThenTaken.addAll(taken);
    assertThat(Queues.popped(skippedThenTaken, 2, 2))
        .extracting(Queues.Popped::missing)
        .containsExactly("p9", null);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Queues.popped(taken, 2, 2))
        .isInstanceOf(IllegalStateException.class);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Queues.popped(taken.subList(0, 4), 1, 2))
        .isInstanceOf(IllegalStateException.class);
    // A match id is whatever the script made of the queue's name: even '!...' is a match taken.
    assertThat(
            Queues.popped(List.of("!q-1", "p1", "1500|0|a", "p2", "1500|0|b"), 1, 2)
                .get(0)
                .matchId())
        .contains("!q-1");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> Queues.popped(List.of("m-1", "p1", "1500|0|a", "p2", "1500|0|b", "x"), 1, 2))
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * The pending match's record cannot hold these characters, so the queue refuses them itself,
   * whatever edge let them through, before anything is queued.
   */
  @Test
  void a_player_whose_id_or_nickname_holds_a_separator_is_refused_and_nothing_is_queued() {
    String clean = "clean-" + UUID.randomUUID();
    for (Ticket bad :
        List.of(
            new Ticket("a;b-" + UUID.randomUUID(), 1500, NOW, "n"),
            new Ticket("a|b-" + UUID.randomUUID(), 1500, NOW, "n"),
            new Ticket("p-" + UUID.randomUUID(), 1500, NOW, "ni#ck"))) {
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> queues.enqueue(ranked, List.of(ticket(clean), bad), NOW).block())
          .isInstanceOf(IllegalArgumentException.class);
      assertThat(queues.status(ranked, bad.playerId()).block().state())
          .isEqualTo(QueueState.NOT_QUEUED);
    }
    assertThat(queues.status(ranked, clean).block().state()).isEqualTo(QueueState.NOT_QUEUED);
    assertThat(queues.enqueue(ranked, List.of(new Ticket(clean, 1500, NOW, "")), NOW).block())
        .extracting(Enqueued::outcome)
        .containsExactly(Enqueued.Outcome.OK);
  }

  @Test
  void joining_two_queues_at_the_same_moment_lands_in_exactly_one() {
    for (int round = 0; round < 50; round++) {
      String player = "race-" + UUID.randomUUID();
      ConcurrentHashMap<String, Enqueued> answers = new ConcurrentHashMap<>();
      Flux.just(ranked, casual)
          .parallel(2)
          .runOn(Schedulers.parallel())
          .flatMap(
              q ->
                  queues
                      .enqueue(q, List.of(ticket(player)), NOW)
                      .doOnNext(s -> answers.put(q, s.get(0))))
          .sequential()
          .blockLast();
      assertThat(answers.values()).as("round %d: %s", round, answers).containsOnlyOnce(Enqueued.OK);
      assertThat(answers.values())
          .filteredOn(s -> s.outcome() == Enqueued.Outcome.ELSEWHERE)
          .hasSize(1);
    }
  }
}
