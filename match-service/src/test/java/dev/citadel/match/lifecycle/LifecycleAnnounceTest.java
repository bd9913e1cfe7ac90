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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;

/**
 * Confirmed rooms told to their players ({@link Lifecycle#onAssigned}) against real Redis. The
 * notifier's Redis reads, just before each announcement goes out, the status of a player it
 * announces: what a client reading its status on the push would find at the earliest.
 */
@CitadelInfra
class LifecycleAnnounceTest {
  static final long NOW = 1_700_000_000_000L;
  static final String PRESENCE = "{mq}:presence-announce-test-" + UUID.randomUUID();
  static LettuceConnectionFactory factory;
  static ReactiveStringRedisTemplate redis;
  static Queues queues;
  final List<String> statusWhenTold = new CopyOnWriteArrayList<>();
  String queue;
  Lifecycle lifecycle;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    redis = new ReactiveStringRedisTemplate(factory);
    queues = new Queues(redis, List.of(), PRESENCE);
  }

  @AfterAll
  static void close() {
    redis.delete(PRESENCE).block(Duration.ofSeconds(10));
    factory.destroy();
  }

  @BeforeEach
  void newQueue() {
    queue = "announce-" + UUID.randomUUID();
    ReactiveStringRedisTemplate notifierRedis =
        new ReactiveStringRedisTemplate(factory) {
          @Override
          public <T> Flux<T> execute(RedisScript<T> script, List<String> keys, List<?> args) {
            // args: channel, message, ... ; the channel ends with the player's id.
            String channel = (String) args.get(0);
            String player = channel.substring(PlayerNotifier.channel("").length());
            return queues
                .status(queue, player)
                .doOnNext(s -> statusWhenTold.add(s.state().name()))
                .thenMany(super.execute(script, keys, args));
          }
        };
    lifecycle =
        new Lifecycle(
            queues,
            new Transitions(new PlayerNotifier(notifierRedis)),
            Clock.systemUTC(),
            "match.room-assigned",
            "match.rejected",
            "match.ended",
            List.of(),
            new SimpleMeterRegistry());
  }

  /** Ten players queued and popped into a pending match; its confirmation from game-state. */
  RoomAssigned pendingMatch(int room) {
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

  static Queues.Assignment assignment(RoomAssigned a) {
    return new Queues.Assignment(a.getMatchId(), a.getChannel(), a.getRoom(), a.getPlayerIds(0));
  }

  /** Every push to these players, as it comes. */
  Disposable listen(List<String> players, List<String> pushes) {
    Disposable.Composite all = Disposables.composite();
    try {
      for (String player : players) {
        all.add(
            redis
                .listenToChannelLater(PlayerNotifier.channel(player))
                .block(Duration.ofSeconds(10))
                .subscribe(m -> pushes.add(player + " " + m.getMessage())));
      }
    } catch (RuntimeException e) {
      all.dispose();
      throw e;
    }
    return all;
  }

  /** A marker after everything published so far on the player's channel: pub/sub keeps order. */
  void awaitMarker(String player, List<String> pushes) {
    String marker = "marker-" + UUID.randomUUID();
    redis.convertAndSend(PlayerNotifier.channel(player), marker).block(Duration.ofSeconds(10));
    await().atMost(Duration.ofSeconds(10)).until(() -> pushes.contains(player + " " + marker));
  }

  static long roomPushes(List<String> pushes) {
    return pushes.stream().filter(m -> m.contains("match.room-assigned")).count();
  }

  /**
   * A player told of a room reads their status as in that game. Before the rooms were assigned
   * first, the announcement went out before the script that seats the players, and a client reading
   * its status on the push could find itself still matched (the load test's smoke run did, once in
   * 200).
   */
  @Test
  void a_player_told_of_a_room_is_in_that_game_when_told() {
    List<RoomAssigned> rooms = List.of(pendingMatch(1), pendingMatch(2));

    lifecycle.onAssigned(rooms).block(Duration.ofSeconds(30));

    assertThat(statusWhenTold).isNotEmpty().containsOnly("IN_GAME");
  }

  /** A confirmation handled again after its announcement: nobody is told twice. */
  @Test
  void a_confirmation_handled_again_announces_nothing() {
    RoomAssigned room = pendingMatch(1);
    List<String> pushes = new CopyOnWriteArrayList<>();
    Disposable listening = listen(room.getPlayerIdsList(), pushes);
    try {
      lifecycle.onAssigned(List.of(room)).block(Duration.ofSeconds(30));
      lifecycle.onAssigned(List.of(room)).block(Duration.ofSeconds(30));
      room.getPlayerIdsList().forEach(p -> awaitMarker(p, pushes));

      assertThat(roomPushes(pushes)).isEqualTo(10);
    } finally {
      listening.dispose();
    }
  }

  /**
   * The script seated the players but its answer never came (a timeout; Lettuce sends a command
   * again after a reconnect; a crash before the announcement): the confirmation handled again still
   * announces the room, once.
   */
  @Test
  void a_match_seated_by_a_call_whose_answer_was_lost_is_still_announced_once() {
    RoomAssigned room = pendingMatch(1);
    List<String> pushes = new CopyOnWriteArrayList<>();
    Disposable listening = listen(room.getPlayerIdsList(), pushes);
    try {
      queues.assignAll(queue, List.of(assignment(room))).block(Duration.ofSeconds(10));

      lifecycle.onAssigned(List.of(room)).block(Duration.ofSeconds(30));
      lifecycle.onAssigned(List.of(room)).block(Duration.ofSeconds(30));
      room.getPlayerIdsList().forEach(p -> awaitMarker(p, pushes));

      assertThat(roomPushes(pushes)).isEqualTo(10);
      assertThat(statusWhenTold).containsOnly("IN_GAME");
    } finally {
      listening.dispose();
    }
  }

  /**
   * A game ended for one of its players (a game server ending it for them: the others keep their
   * seat) before its announcement was made: the confirmation handled again tells nobody, though the
   * player it names is still seated.
   */
  @Test
  void a_match_ended_for_some_of_its_players_is_not_announced() {
    RoomAssigned room = pendingMatch(1);
    queues.assignAll(queue, List.of(assignment(room))).block(Duration.ofSeconds(10));
    assertThat(queues.endMatch(queue, room.getMatchId(), List.of(room.getPlayerIds(5))).block())
        .containsExactly(room.getPlayerIds(5));
    String seated = room.getPlayerIds(0);
    List<String> pushes = new CopyOnWriteArrayList<>();
    Disposable listening = listen(List.of(seated), pushes);
    try {
      lifecycle.onAssigned(List.of(room)).block(Duration.ofSeconds(30));
      awaitMarker(seated, pushes);

      assertThat(roomPushes(pushes)).isZero();
      assertThat(queues.status(queue, seated).block().state().name()).isEqualTo("IN_GAME");
    } finally {
      listening.dispose();
    }
  }

  /**
   * A match cancelled and requeued before its room was confirmed, or whose game ended before the
   * announcement: its players are told nothing.
   */
  @Test
  void a_match_requeued_or_over_is_not_announced() {
    RoomAssigned requeued = pendingMatch(1);
    RoomAssigned over = pendingMatch(2);
    RoomAssigned kept = pendingMatch(3);
    assertThat(queues.requeue(queue, requeued.getMatchId()).block()).isTrue();
    queues.assignAll(queue, List.of(assignment(over))).block(Duration.ofSeconds(10));
    queues.endMatch(queue, over.getMatchId(), over.getPlayerIdsList()).block();
    List<String> watched =
        List.of(requeued.getPlayerIds(0), over.getPlayerIds(0), kept.getPlayerIds(0));
    List<String> pushes = new CopyOnWriteArrayList<>();
    Disposable listening = listen(watched, pushes);
    try {
      lifecycle.onAssigned(List.of(requeued, over, kept)).block(Duration.ofSeconds(30));
      watched.forEach(p -> awaitMarker(p, pushes));

      assertThat(pushes)
          .filteredOn(m -> m.contains("match.room-assigned"))
          .singleElement()
          .asString()
          .startsWith(kept.getPlayerIds(0) + " ");
      assertThat(queues.status(queue, requeued.getPlayerIds(0)).block().state().name())
          .isEqualTo("WAITING");
    } finally {
      listening.dispose();
    }
  }
}
