package dev.citadel.notify;

import java.util.regex.Pattern;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Mono;

/**
 * Publishes a notification to one player, wherever their WebSocket is connected. Delivery is best
 * effort (Redis pub/sub): notifications tell a client to look, the state itself is always readable
 * through the API.
 */
public final class PlayerNotifier {
  private static final Pattern TYPE = Pattern.compile("[a-z][a-z0-9.-]{0,63}");

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
   * @param dataJson a JSON value (object, string, ...) carried as {@code data}
   * @return how many subscribers received it (0 if the player is not connected)
   */
  public Mono<Long> notify(String playerId, String type, String dataJson) {
    if (!TYPE.matcher(type).matches()) {
      return Mono.error(new IllegalArgumentException("bad notification type " + type));
    }
    String message = "{\"type\":\"" + type + "\",\"data\":" + dataJson + "}";
    return redis.convertAndSend(channel(playerId), message);
  }
}
