package dev.citadel.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.ReactiveRedisMessageListenerContainer;
import reactor.core.Disposable;

/** Notifications through real Redis pub/sub. */
@CitadelInfra
class PlayerNotifierTest {
  static LettuceConnectionFactory factory;
  static ReactiveRedisMessageListenerContainer listeners;
  static PlayerNotifier notifier;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    listeners = new ReactiveRedisMessageListenerContainer(factory);
    notifier = new PlayerNotifier(new ReactiveStringRedisTemplate(factory));
  }

  @AfterAll
  static void close() {
    listeners.destroy();
    factory.destroy();
  }

  /** Subscribes to a player's channel and waits until the subscription is active. */
  static Disposable listen(String player, Queue<String> into) {
    return listeners
        .receiveLater(ChannelTopic.of(PlayerNotifier.channel(player)))
        .block() // completes once Redis confirmed the subscription
        .subscribe(m -> into.add(m.getMessage()));
  }

  @Test
  void many_notifications_in_chunks_reach_each_player_in_order() {
    Queue<String> alice = new ConcurrentLinkedQueue<>();
    Queue<String> bob = new ConcurrentLinkedQueue<>();
    Disposable a = listen("alice", alice);
    Disposable b = listen("bob", bob);
    try {
      int total = PlayerNotifier.CHUNK * 2 + 500; // three script calls
      List<PlayerNotifier.Notification> notes = new ArrayList<>();
      for (int i = 0; i < total; i++) {
        String player = i % 2 == 0 ? "alice" : (i % 3 == 0 ? "bob" : "nobody-" + i);
        notes.add(new PlayerNotifier.Notification(player, "match.found", java.util.Map.of("n", i)));
      }
      long expectedAlice = notes.stream().filter(n -> n.playerId().equals("alice")).count();
      long expectedBob = notes.stream().filter(n -> n.playerId().equals("bob")).count();

      long received = notifier.notifyAll(notes).block();

      assertThat(received).isEqualTo(expectedAlice + expectedBob);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> alice.size() == expectedAlice && bob.size() == expectedBob);
      assertThat(alice.peek()).isEqualTo("{\"type\":\"match.found\",\"data\":{\"n\":0}}");
      List<Integer> order =
          alice.stream().map(m -> Integer.parseInt(m.replaceAll("\\D", ""))).toList();
      assertThat(order).isSorted();
    } finally {
      a.dispose();
      b.dispose();
    }
  }

  @Test
  void a_bad_type_publishes_nothing() {
    Queue<String> carol = new ConcurrentLinkedQueue<>();
    Disposable c = listen("carol", carol);
    try {
      var notes =
          List.of(
              new PlayerNotifier.Notification("carol", "match.found", java.util.Map.of()),
              new PlayerNotifier.Notification("carol", "Not A Type", java.util.Map.of()));
      assertThatThrownBy(() -> notifier.notifyAll(notes).block())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bad notification type");
      // A marker sent after the refused batch is the first thing carol receives.
      notifier.notify("carol", "marker", java.util.Map.of()).block();
      await().atMost(Duration.ofSeconds(10)).until(() -> !carol.isEmpty());
      assertThat(carol.peek()).contains("marker");
    } finally {
      c.dispose();
    }
  }

  record Room(String matchId, int channel, int room) {}

  @Test
  void messages_are_written_by_jackson_whatever_the_data() {
    assertThat(PlayerNotifier.message("match.room-assigned", new Room("m\"1", 3, 7)))
        .isEqualTo(
            "{\"type\":\"match.room-assigned\",\"data\":"
                + "{\"matchId\":\"m\\\"1\",\"channel\":3,\"room\":7}}");
    assertThat(PlayerNotifier.message("match.ended", "m-1"))
        .isEqualTo("{\"type\":\"match.ended\",\"data\":\"m-1\"}");
    assertThat(PlayerNotifier.message("match.left", null))
        .isEqualTo("{\"type\":\"match.left\",\"data\":null}");
  }

  /**
   * A stalled Redis (Lettuce's own timeout is a minute) holds a notification's caller at most
   * {@link PlayerNotifier#NOTIFY_WAIT}: a gift answered after its notification waited that minute
   * while its client timed out and sent the gift again.
   */
  @Test
  void a_stalled_redis_holds_a_notification_at_most_its_wait() {
    PlayerNotifier stalled =
        new PlayerNotifier(
            new ReactiveStringRedisTemplate(factory) {
              @Override
              public reactor.core.publisher.Mono<Long> convertAndSend(
                  String destination, String message) {
                return reactor.core.publisher.Mono.never();
              }
            });
    Long answer =
        stalled
            .notify("p-stalled", "gift.received", java.util.Map.of())
            .onErrorResume(
                java.util.concurrent.TimeoutException.class,
                e -> reactor.core.publisher.Mono.just(-1L))
            .block(java.time.Duration.ofSeconds(10));
    org.assertj.core.api.Assertions.assertThat(answer).as("given up on, in time").isEqualTo(-1L);
  }
}
