package dev.citadel.gamestate.config;

import dev.citadel.gamestate.notifications.NotificationSocket;
import dev.citadel.notify.PlayerNotifier;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.ReactiveRedisConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.listener.ReactiveRedisMessageListenerContainer;
import org.springframework.web.reactive.HandlerMapping;
import org.springframework.web.reactive.handler.SimpleUrlHandlerMapping;
import org.springframework.web.server.WebFilter;

/** The WebSocket endpoint and a response header naming the instance that answered. */
@Configuration(proxyBeanMethods = false)
public class WebConfiguration {
  public static final String INSTANCE_HEADER = "X-Citadel-Instance";

  @Bean(destroyMethod = "destroy")
  ReactiveRedisMessageListenerContainer redisListeners(ReactiveRedisConnectionFactory redis) {
    return new ReactiveRedisMessageListenerContainer(redis);
  }

  @Bean
  PlayerNotifier playerNotifier(ReactiveStringRedisTemplate redis) {
    return new PlayerNotifier(redis);
  }

  @Bean
  HandlerMapping webSocketMapping(
      ReactiveRedisMessageListenerContainer listeners,
      java.time.Clock clock,
      io.micrometer.core.instrument.MeterRegistry meters) {
    return new SimpleUrlHandlerMapping(
        Map.of("/ws", new NotificationSocket(listeners, clock, meters)), -1);
  }

  /** Which instance served a request: for operators, and for the affinity tests. */
  @Bean
  WebFilter instanceHeader(GameStateProperties props) {
    return (exchange, chain) -> {
      exchange.getResponse().getHeaders().set(INSTANCE_HEADER, props.instanceId());
      return chain.filter(exchange);
    };
  }
}
