package dev.citadel.match.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.queue.Enqueued;
import dev.citadel.match.queue.Queues;
import dev.citadel.notify.PlayerNotifier;
import dev.citadel.protocol.match.v1.RoomAssigned;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.Disposable;

/** Confirmed rooms told to their players ({@link Lifecycle#onAssigned}) against real Redis. */
@CitadelInfra
class LifecycleAnnounceTest {
  static final long NOW = 1_700_000_000_000L;
  static LettuceConnectionFactory factory;
  static LettuceConnectionFactory clientFactory;
  static ReactiveStringRedisTemplate redis;
  static Queues clients;
  static Queues queues;
  static Lifecycle lifecycle;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    redis = new ReactiveStringRedisTemplate(factory);
    queues = new Queues(redis);
    // The players' side, on a connection of its own: nothing it reads waits behind the service's.
    clientFactory =
        new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    clientFactory.afterPropertiesSet();
    clients = new Queues(new ReactiveStringRedisTemplate(clientFactory));
    lifecycle =
        new Lifecycle(
            queues,
            new Transitions(new PlayerNotifier(redis)),
            Clock.systemUTC(),
            "match.room-assigned",
            "match.rejected",
            "match.ended",
            List.of(),
            new SimpleMeterRegistry());
  }

  @AfterAll
  static void close() {
    factory.destroy();
    clientFactory.destroy();
  }

  /** Ten players queued and popped into a pending match; its confirmation from game-state. */
  static RoomAssigned pendingMatch(String queue, int room) {
    List<Ticket> tickets = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      tickets.add(new Ticket(queue + "-" + UUID.randomUUID(), 1500 + i, NOW - 1000, "n" + i));
    }
    assertThat(queues.enqueue(queue, tickets, NOW - 1000).block()).containsOnly(Enqueued.OK);
    List<String> players = tickets.stream().map(Ticket::playerId).toList();
    String id =
        queues.popAll(queue, List.of(players), NOW, NOW + 10_000).block().get(0).orElseThrow();
    return RoomAssigned.newBuilder()
        .setMatchId(id)
        .setQueue(queue)
        .setChannel(1)
        .setRoom(room)
        .addAllPlayerIds(players)
        .build();
  }

  /** What a client reads as soon as it is told of its room: its status, read on each push. */
  static Disposable statusOnEachPush(String queue, String player, List<String> seen) {
    return redis
        .listenToChannelLater(PlayerNotifier.channel(player))
        .block(Duration.ofSeconds(10))
        .filter(m -> m.getMessage().contains("match.room-assigned"))
        .concatMap(m -> clients.status(queue, player))
        .subscribe(s -> seen.add(s.state().name()));
  }

  /**
   * A player told of a room reads their status as in that game. Before the rooms were assigned
   * first, the announcement went out before the script that seats the players, and a client reading
   * its status on the push could find itself still matched (the load test's smoke run did, once in
   * 200). Many matches here, so the announcements take several script calls and a status read on
   * the first push would come before the seats were written.
   */
  @Test
  void a_player_told_of_a_room_is_in_that_game_when_told() {
    int matches = 600;
    String queue = "announce-" + UUID.randomUUID();
    List<RoomAssigned> rooms = new ArrayList<>();
    for (int i = 0; i < matches; i++) {
      rooms.add(pendingMatch(queue, i));
    }
    List<String> first = new CopyOnWriteArrayList<>();
    List<String> last = new CopyOnWriteArrayList<>();
    Disposable a = statusOnEachPush(queue, rooms.get(0).getPlayerIds(0), first);
    Disposable b = statusOnEachPush(queue, rooms.get(matches - 1).getPlayerIds(9), last);
    try {
      lifecycle.onAssigned(rooms).block(Duration.ofSeconds(30));

      await().atMost(Duration.ofSeconds(10)).until(() -> first.size() == 1 && last.size() == 1);
      assertThat(first).containsExactly("IN_GAME");
      assertThat(last).containsExactly("IN_GAME");
    } finally {
      a.dispose();
      b.dispose();
    }
  }

  /** A match cancelled and requeued before its room was confirmed: its players are told nothing. */
  @Test
  void a_match_requeued_before_its_room_came_is_not_announced() {
    String queue = "announce-" + UUID.randomUUID();
    RoomAssigned gone = pendingMatch(queue, 1);
    RoomAssigned kept = pendingMatch(queue, 2);
    assertThat(queues.requeue(queue, gone.getMatchId()).block()).isTrue();
    String player = gone.getPlayerIds(0);
    List<String> pushes = new CopyOnWriteArrayList<>();
    Disposable listening =
        redis
            .listenToChannelLater(PlayerNotifier.channel(player))
            .block(Duration.ofSeconds(10))
            .subscribe(m -> pushes.add(m.getMessage()));
    List<String> keptSeen = new CopyOnWriteArrayList<>();
    Disposable keptListening = statusOnEachPush(queue, kept.getPlayerIds(0), keptSeen);
    try {
      lifecycle.onAssigned(List.of(gone, kept)).block(Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(10)).until(() -> keptSeen.size() == 1);
      // A marker after the announcements on the requeued player's channel: pub/sub keeps order.
      String marker = "marker-" + UUID.randomUUID();
      redis.convertAndSend(PlayerNotifier.channel(player), marker).block(Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> pushes.contains(marker));

      assertThat(pushes).noneMatch(m -> m.contains("match.room-assigned"));
      assertThat(queues.status(queue, player).block().state().name()).isEqualTo("WAITING");
    } finally {
      listening.dispose();
      keptListening.dispose();
    }
  }
}
