package dev.citadel.gamestate.notifications;

import dev.citadel.notify.PlayerNotifier;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.ReactiveRedisMessageListenerContainer;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * {@code /ws}: pushes the connected player's notifications. The gateway authenticates the
 * connection and routes it here by player affinity, passing the verified player id in {@code
 * X-Player-Id}. The first message, {@code {"type":"connected"}}, says the subscription is live.
 */
public final class NotificationSocket implements WebSocketHandler {
  static final String PLAYER_HEADER = "X-Player-Id";

  private final ReactiveRedisMessageListenerContainer listeners;
  private final AtomicInteger open = new AtomicInteger();
  private final Counter pushed;

  public NotificationSocket(ReactiveRedisMessageListenerContainer listeners, MeterRegistry meters) {
    this.listeners = listeners;
    Gauge.builder("citadel_websocket_sessions", open, AtomicInteger::get)
        .description("open WebSocket connections")
        .register(meters);
    this.pushed =
        Counter.builder("citadel_websocket_messages_sent")
            .description("notifications pushed to players")
            .register(meters);
  }

  @Override
  public Mono<Void> handle(WebSocketSession session) {
    String playerId = session.getHandshakeInfo().getHeaders().getFirst(PLAYER_HEADER);
    if (playerId == null || playerId.isBlank()) {
      return session.close(CloseStatus.POLICY_VIOLATION.withReason("no verified player"));
    }
    Flux<String> messages =
        listeners
            .receiveLater(ChannelTopic.of(PlayerNotifier.channel(playerId)))
            .flatMapMany(
                subscribed ->
                    Flux.concat(
                        Mono.just("{\"type\":\"connected\",\"data\":\"" + playerId + "\"}"),
                        subscribed.map(m -> m.getMessage())));
    // Ends when the client goes away: receive() completes and cancels the subscription.
    open.incrementAndGet();
    return session
        .send(messages.doOnNext(m -> pushed.increment()).map(session::textMessage))
        .and(session.receive().then())
        .doFinally(s -> open.decrementAndGet());
  }
}
