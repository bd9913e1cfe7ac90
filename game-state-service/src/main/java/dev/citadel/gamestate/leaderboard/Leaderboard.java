package dev.citadel.gamestate.leaderboard;

import dev.citadel.gamestate.aggregate.AfterCommit;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.domain.Range;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.RedisScript;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Players ranked by experience, in a Redis sorted set. Updated after commit from the player's
 * events; Redis is a projection here (rebuildable from the journal), never the truth.
 */
@Component
public class Leaderboard implements AfterCommit<PlayerState, PlayerEvent> {
  static final String SCORES = "{leaderboard}:experience";
  static final String NICKNAMES = "{leaderboard}:nicknames";
  private static final RedisScript<Long> RECORD = script("scripts/leaderboard-record.lua");

  private static final RedisScript<Long> RATING = script("scripts/leaderboard-rating.lua");

  /** One row of a queue's rating leaderboard. */
  public record RatingEntry(long rank, String playerId, String nickname, int rating) {}

  static String ratings(String queue) {
    return "{leaderboard}:rating:" + queue;
  }

  static String games(String queue) {
    return "{leaderboard}:games:" + queue;
  }

  /** One row of the leaderboard. */
  public record Entry(long rank, String playerId, String nickname, long experience, int level) {}

  private final ReactiveStringRedisTemplate redis;

  public Leaderboard(ReactiveStringRedisTemplate redis) {
    this.redis = redis;
  }

  @Override
  public Mono<Void> committed(
      String id, PlayerState state, long version, List<PlayerEvent> events) {
    List<Mono<?>> writes = new ArrayList<>();
    for (PlayerEvent e : events) {
      if (e instanceof PlayerEvent.MatchRated r) {
        writes.add(
            Mono.defer(
                () ->
                    redis
                        .execute(
                            RATING,
                            List.of(ratings(r.queue()), games(r.queue()), NICKNAMES),
                            List.of(
                                Integer.toString(r.after()),
                                Integer.toString(r.games()),
                                id,
                                state.nickname()))
                        .then()));
      }
    }
    boolean relevant =
        events.stream()
            .anyMatch(
                e ->
                    e instanceof PlayerEvent.ExperienceGained
                        || (e instanceof PlayerEvent.MatchRated r
                            && r.settled().isPresent()
                            && r.experience() > 0)
                        || e instanceof PlayerEvent.PlayerCreated
                        || e instanceof PlayerEvent.NicknameSet);
    if (relevant) {
      writes.add(
          Mono.defer(
              () ->
                  redis
                      .execute(
                          RECORD,
                          List.of(SCORES, NICKNAMES),
                          List.of(Long.toString(state.experience()), id, state.nickname()))
                      .then()));
    }
    return Mono.whenDelayError(writes);
  }

  /** A queue's best ratings. */
  public Flux<RatingEntry> topRated(String queue, int limit) {
    return ranked(
        ratings(queue),
        limit,
        (rank, playerId, nick, score) -> new RatingEntry(rank, playerId, nick, (int) score));
  }

  public Flux<Entry> top(int limit) {
    return ranked(
        SCORES,
        limit,
        (rank, playerId, nick, score) ->
            new Entry(rank, playerId, nick, (long) score, Player.levelFor((long) score)));
  }

  /** One row as a caller wants it. */
  private interface Row<T> {
    T of(long rank, String playerId, String nickname, double score);
  }

  /** The best {@code limit} of a sorted set, ranked from 1, with each player's nickname. */
  private <T> Flux<T> ranked(String key, int limit, Row<T> row) {
    return redis
        .opsForZSet()
        .reverseRangeWithScores(key, Range.closed(0L, (long) limit - 1))
        .index()
        .concatMap(
            ranked -> {
              String playerId = ranked.getT2().getValue();
              double score = ranked.getT2().getScore();
              return redis
                  .<String, String>opsForHash()
                  .get(NICKNAMES, playerId)
                  .defaultIfEmpty("")
                  .map(nick -> row.of(ranked.getT1() + 1, playerId, nick, score));
            });
  }

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
