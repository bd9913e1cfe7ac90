package dev.citadel.gamestate.notifications;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.notify.PlayerNotifier;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.listener.ReactiveRedisMessageListenerContainer;
import reactor.core.Disposable;

@CitadelInfra
class NotificationSocketTest {
  static LettuceConnectionFactory factory;
  static ReactiveRedisMessageListenerContainer listeners;
  static ReactiveStringRedisTemplate redis;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    factory.start();
    listeners = new ReactiveRedisMessageListenerContainer(factory);
    redis = new ReactiveStringRedisTemplate(factory);
  }

  @AfterAll
  static void close() {
    listeners.destroy();
    factory.destroy();
  }

  final NotificationSocket socket =
      new NotificationSocket(listeners, Clock.systemUTC(), new SimpleMeterRegistry());

  static long numsub(String channel) {
    // PUBSUB NUMSUB: how many subscriptions Redis holds for the channel.
    try (var lettuce = io.lettuce.core.RedisClient.create(SharedInfra.redis().url()).connect()) {
      return lettuce.sync().pubsubNumsub(channel).getOrDefault(channel, 0L);
    }
  }

  @Test
  void connected_comes_first_then_the_players_own_notifications() {
    String player = "p-" + UUID.randomUUID();
    List<String> got = new CopyOnWriteArrayList<>();
    Disposable reading = socket.messages(player).subscribe(got::add);
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !got.isEmpty());
      redis.convertAndSend(PlayerNotifier.channel(player), "one").block();
      redis.convertAndSend(PlayerNotifier.channel("someone-else"), "not hers").block();
      redis.convertAndSend(PlayerNotifier.channel(player), "two").block();
      await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 3);
      assertThat(got).containsExactly(PlayerNotifier.message("connected", player), "one", "two");
    } finally {
      reading.dispose();
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> numsub(PlayerNotifier.channel(player)) == 0);
  }

  /**
   * Sockets closed while their SUBSCRIBE is in flight (the connection to Redis open already, so the
   * command goes out at once) leave no subscription behind: spring-data-redis unsubscribes only a
   * subscription Redis confirmed, and cancelled before, each channel stayed subscribed for good.
   */
  @Test
  void sockets_closed_while_subscribing_leave_no_subscription() {
    String warm = "p-" + UUID.randomUUID();
    List<String> got = new CopyOnWriteArrayList<>();
    Disposable reading = socket.messages(warm).subscribe(got::add);
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> !got.isEmpty());
      List<String> closed = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        String player = "p-" + UUID.randomUUID();
        closed.add(player);
        socket.messages(player).subscribe().dispose();
      }
      await()
          .atMost(Duration.ofSeconds(15))
          .until(() -> closed.stream().allMatch(p -> numsub(PlayerNotifier.channel(p)) == 0));
    } finally {
      reading.dispose();
    }
  }
}
