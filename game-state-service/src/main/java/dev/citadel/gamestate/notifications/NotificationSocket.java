package dev.citadel.gamestate.notifications;

import dev.citadel.notify.PlayerNotifier;
import dev.citadel.web.security.Tokens;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.data.redis.connection.SubscriptionListener;
import org.springframework.data.redis.listener.ChannelTopic;
import org.springframework.data.redis.listener.ReactiveRedisMessageListenerContainer;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.web.reactive.socket.CloseStatus;
import org.springframework.web.reactive.socket.WebSocketHandler;
import org.springframework.web.reactive.socket.WebSocketSession;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * {@code /ws}: pushes the connected player's notifications. The connection is authenticated at
 * connect by this service itself (the player token, from the header or {@code ?access_token=}) and
 * closed when that token expires: a socket never outlives its credential. The first message, {@code
 * {"type":"connected","data":"<player id>"}}, says the subscription is live.
 */
public final class NotificationSocket implements WebSocketHandler {
  /** 4001: a close code of the application's own range (RFC 6455 §7.4.2). */
  static final CloseStatus TOKEN_EXPIRED = new CloseStatus(4001, "token expired");

  /**
   * 4002: the player opened more sockets here than {@link #MAX_PER_PLAYER}; this was the oldest.
   */
  static final CloseStatus REPLACED = new CloseStatus(4002, "replaced by a newer connection");

  /** Notifications kept for a socket whose client does not read; past it the oldest go. */
  static final int MAX_WAITING = 256;

  /** Sockets one player may hold open on this instance (a fifth pushes the oldest out). */
  static final int MAX_PER_PLAYER = 4;

  private final ReactiveRedisMessageListenerContainer listeners;
  private final Clock clock;
  private final AtomicInteger open = new AtomicInteger();
  private final PlayerSockets<WebSocketSession> byPlayer = new PlayerSockets<>(MAX_PER_PLAYER);
  private final Counter pushed;
  private final Counter droppedUnread;

  public NotificationSocket(
      ReactiveRedisMessageListenerContainer listeners, Clock clock, MeterRegistry meters) {
    this.listeners = listeners;
    this.clock = clock;
    Gauge.builder("citadel_websocket_sessions", open, AtomicInteger::get)
        .description("open WebSocket connections")
        .register(meters);
    this.pushed =
        Counter.builder("citadel_websocket_messages_sent")
            .description("notifications pushed to players")
            .register(meters);
    this.droppedUnread =
        Counter.builder("citadel_websocket_messages_dropped")
            .description(
                "notifications dropped: their socket's client had not read the ones before")
            .register(meters);
  }

  private void dropped() {
    droppedUnread.increment();
  }

  @Override
  public Mono<Void> handle(WebSocketSession session) {
    return session
        .getHandshakeInfo()
        .getPrincipal()
        .filter(JwtAuthenticationToken.class::isInstance)
        .map(p -> ((JwtAuthenticationToken) p).getToken())
        .filter(jwt -> Tokens.PLAYER.equals(jwt.getClaimAsString(Tokens.KIND)))
        .flatMap(jwt -> serve(session, jwt))
        .switchIfEmpty(
            Mono.defer(
                () ->
                    session.close(CloseStatus.POLICY_VIOLATION.withReason("no verified player"))));
  }

  /**
   * The player's notifications, after {@code connected} once Redis confirmed the subscription. On
   * {@code receive} with a subscription listener, not {@code receiveLater}: a socket closed while
   * its SUBSCRIBE was in flight cancelled {@code receiveLater}'s Mono before it gave the stream,
   * and only the stream unsubscribes, so the channel stayed subscribed on the shared connection for
   * good (one more for every such socket).
   */
  Flux<String> messages(String playerId) {
    ChannelTopic topic = ChannelTopic.of(PlayerNotifier.channel(playerId));
    String connected = PlayerNotifier.message("connected", playerId);
    return Flux.<String>create(
            sink -> {
              // Both callbacks come on the Redis client's thread, the confirmation before any
              // message of the channel, so "connected" is first; once, and for this channel only
              // (the connection is shared: another socket's confirmation is not this one's).
              byte[] ours = topic.getTopic().getBytes(java.nio.charset.StandardCharsets.UTF_8);
              java.util.concurrent.atomic.AtomicBoolean once =
                  new java.util.concurrent.atomic.AtomicBoolean();
              Sinks.Empty<Void> live = Sinks.empty();
              SubscriptionListener confirmed =
                  new SubscriptionListener() {
                    @Override
                    public void onChannelSubscribed(byte[] channel, long count) {
                      if (java.util.Arrays.equals(channel, ours)
                          && once.compareAndSet(false, true)) {
                        sink.next(connected);
                        live.tryEmitEmpty();
                      }
                    }
                  };
              Disposable subscription =
                  listeners
                      .receive(List.of(topic), confirmed)
                      .map(m -> m.getMessage())
                      .subscribe(sink::next, sink::error, sink::complete);
              sink.onDispose(
                  () -> {
                    if (once.get()) {
                      subscription.dispose();
                      return;
                    }
                    // Closed while its SUBSCRIBE is in flight: spring-data-redis unsubscribes only
                    // a subscription it has registered, once Redis confirmed it; cancelled before,
                    // the channel stayed subscribed for good. So the cancel waits for the
                    // confirmation (at most 10 s), and a moment more.
                    live.asMono()
                        .timeout(Duration.ofSeconds(10), Mono.empty())
                        .then(Mono.delay(Duration.ofMillis(50)))
                        .subscribe(
                            tick -> {}, error -> subscription.dispose(), subscription::dispose);
                  });
            },
            FluxSink.OverflowStrategy.IGNORE)
        // A client that stops reading: the newest wait, the oldest go (delivery is best effort,
        // the state is readable), instead of piling up for the token's hour.
        .onBackpressureBuffer(
            MAX_WAITING,
            unread -> dropped(),
            reactor.core.publisher.BufferOverflowStrategy.DROP_OLDEST);
  }

  private Mono<Void> serve(WebSocketSession session, Jwt jwt) {
    String playerId = jwt.getSubject();
    Instant expires = jwt.getExpiresAt();
    Duration left = expires == null ? Duration.ZERO : Duration.between(clock.instant(), expires);
    if (left.isNegative() || left.isZero()) {
      return session.close(TOKEN_EXPIRED);
    }
    Flux<String> messages = messages(playerId);
    // Ends when the client goes away (receive() completes and cancels the subscription) or when
    // the token expires (the timer closes the session, which ends both).
    open.incrementAndGet();
    for (WebSocketSession older : byPlayer.add(playerId, session)) {
      older.close(REPLACED).subscribe(done -> {}, error -> {});
    }
    Mono<Void> expiry = Mono.delay(left).then(Mono.defer(() -> session.close(TOKEN_EXPIRED)));
    return Mono.firstWithSignal(
            session
                .send(messages.doOnNext(m -> pushed.increment()).map(session::textMessage))
                .and(session.receive().then()),
            expiry)
        .doFinally(
            s -> {
              open.decrementAndGet();
              byPlayer.remove(playerId, session);
            });
  }
}
