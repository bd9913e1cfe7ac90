package dev.citadel.match.config;

import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;

@ConfigurationProperties("citadel")
public record MatchProperties(
    String instanceId, dev.citadel.messaging.kafka.KafkaConnection kafka, Match match) {
  /**
   * @param gameStateUrls game-state instances, tried in order: any one reads any player's rating
   * @param maxMatchesPerTick the most matches one tick forms (its pops and sends are bounded); 0
   *     for the default
   * @param requestDeadline how long a join or a leave may take in all (its calls one after another,
   *     each with its own timeout); past it 503 (null: 10 s)
   */
  public record Match(
      List<String> queues,
      List<String> gameStateUrls,
      int playersPerMatch,
      Window window,
      Duration tickInterval,
      Duration roomTimeout,
      Duration lockTtl,
      Topics topics,
      int maxMatchesPerTick,
      Duration requestDeadline) {
    /**
     * A queue's name is part of Redis keys and of every match id (the name, a UUIDv7 and a number:
     * game-state takes match ids of up to 64 characters), so it is short and plain.
     */
    static final java.util.regex.Pattern QUEUE_NAME =
        java.util.regex.Pattern.compile("[a-z0-9_]{1,20}");

    public Match {
      requestDeadline = requestDeadline == null ? Duration.ofSeconds(10) : requestDeadline;
      for (String q : queues == null ? List.<String>of() : queues) {
        if (!QUEUE_NAME.matcher(q).matches()) {
          throw new IllegalArgumentException(
              "queue name '" + q + "' must be 1-20 of a-z, 0-9 and _");
        }
      }
    }
  }

  public record Window(int start, int perSecond, int cap, java.time.Duration maxWait) {}

  public record Topics(
      String found, String assigned, String rejected, String ended, String presence) {}
}
