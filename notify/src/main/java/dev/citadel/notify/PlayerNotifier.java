package dev.citadel.notify;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * Publishes a notification to one player, wherever their WebSocket is connected. Delivery is best
 * effort (Redis pub/sub): notifications tell a client to look, the state itself is always readable
 * through the API.
 */
public final class PlayerNotifier {
  private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9.-]{0,63}");
  private static final RedisScript<Long> NOTIFY_ALL = script("dev/citadel/notify/notify-all.lua");

  /** Notifications per script call: bounds how long one call keeps Redis busy. */
  static final int CHUNK = 1000;

  /** One notification for one player; {@code data} is any value Jackson writes (null too). */
  public record Notification(String playerId, String type, Object data) {}

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private final ReactiveStringRedisTemplate redis;

  public PlayerNotifier(ReactiveStringRedisTemplate redis) {
    this.redis = redis;
  }

  /** The pub/sub channel of one player. */
  public static String channel(String playerId) {
    return "citadel:notify:" + playerId;
  }

  /**
   * @param type e.g. {@code match.found}
   * @param data carried as {@code data}: a record, map, string ... written as JSON by Jackson (a
   *     String is a JSON string: pass a record or map for an object, never pre-built JSON)
   * @return how many subscribers received it (0 if the player is not connected)
   */
  public Mono<Long> notify(String playerId, String type, Object data) {
    if (!TYPE.matcher(type).matches()) {
      return Mono.error(new IllegalArgumentException("bad notification type " + type));
    }
    return Mono.fromCallable(() -> message(type, data))
        .flatMap(m -> redis.convertAndSend(channel(playerId), m))
        // Best effort, after the change it tells of was stored: a caller answering its request
        // after it must not wait for a stalled Redis (Lettuce's own timeout is a minute) while its
        // client times out and sends a change that was made again.
        .timeout(NOTIFY_WAIT);
  }

  /** The longest a single notification may hold its caller. */
  public static final java.time.Duration NOTIFY_WAIT = java.time.Duration.ofSeconds(1);

  /**
   * Many notifications in a few script calls (one per {@value #CHUNK}) instead of one command per
   * player.
   *
   * @return how many subscribers received them, in all
   */
  public Mono<Long> notifyAll(List<Notification> notifications) {
    for (Notification n : notifications) {
      if (!TYPE.matcher(n.type()).matches()) {
        return Mono.error(new IllegalArgumentException("bad notification type " + n.type()));
      }
    }
    // Every message is written before the first is sent: one that cannot be written sends none.
    return Mono.fromCallable(
            () -> {
              List<String> args = new ArrayList<>(2 * notifications.size());
              for (Notification n : notifications) {
                args.add(channel(n.playerId()));
                args.add(message(n.type(), n.data()));
              }
              return args;
            })
        .flatMapMany(
            args ->
                Flux.range(0, (notifications.size() + CHUNK - 1) / CHUNK)
                    .concatMap(
                        c ->
                            redis
                                .execute(
                                    NOTIFY_ALL,
                                    List.of(),
                                    args.subList(
                                        2 * c * CHUNK, Math.min(args.size(), 2 * (c + 1) * CHUNK)))
                                .next()))
        .reduce(0L, Long::sum);
  }

  /** The message a client reads: {@code {"type": ..., "data": ...}}. */
  public static String message(String type, Object data) {
    return JSON.writeValueAsString(new Message(type, data));
  }

  private record Message(String type, Object data) {}

  /**
   * A script read once, as text: from a resource, Spring asks on every call whether it changed
   * (which opens the jar entry: 8 % of the gateway's CPU when its rate limiter did it).
   */
  private static RedisScript<Long> script(String path) {
    try {
      return RedisScript.of(
          new ClassPathResource(path).getContentAsString(StandardCharsets.UTF_8), Long.class);
    } catch (IOException e) {
      throw new UncheckedIOException("script " + path + " is missing", e);
    }
  }
}
