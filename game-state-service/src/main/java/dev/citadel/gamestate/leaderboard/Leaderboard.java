package dev.citadel.gamestate.leaderboard;

import dev.citadel.gamestate.aggregate.AfterCommit;
import dev.citadel.gamestate.aggregate.Gathered;
import dev.citadel.gamestate.player.Player;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

  /** The stream version each stored nickname is from: an older update never writes it back. */
  static final String NICKNAME_VERSIONS = "{leaderboard}:nickname-versions";

  private static final RedisScript<Long> RECORD_ALL = script("scripts/leaderboard-record-all.lua");

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
  private final Gathered<Update> updates;

  public Leaderboard(ReactiveStringRedisTemplate redis, MeterRegistry meters) {
    this.redis = redis;
    this.updates = new Gathered<Update>("leaderboard", batch -> write(redis, batch), meters);
  }

  @Override
  public Mono<Void> committed(
      String id, PlayerState state, long version, List<PlayerEvent> events) {
    List<Mono<Void>> writes = new ArrayList<>();
    for (PlayerEvent e : events) {
      if (e instanceof PlayerEvent.MatchRated r) {
        writes.add(
            updates.add(
                new Update(true, id, state.nickname(), version, r.after(), r.games(), r.queue())));
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
          updates.add(new Update(false, id, state.nickname(), version, state.experience(), 0, "")));
    }
    return Mono.whenDelayError(writes);
  }

  /**
   * One player's new experience total, or their rating in a queue after {@code games} games, with
   * their nickname at stream version {@code version}.
   */
  record Update(
      boolean rating,
      String playerId,
      String nickname,
      long version,
      long value,
      int games,
      String queue) {}

  /**
   * Everything the leaderboards hold of one player at stream version {@code version}: their
   * experience and their rating in each queue they played (a rebuild writes these; the script keeps
   * whatever is newer).
   */
  static List<Update> rows(String id, PlayerState state, long version) {
    List<Update> rows = new ArrayList<>();
    rows.add(new Update(false, id, state.nickname(), version, state.experience(), 0, ""));
    state
        .ratings()
        .forEach(
            (queue, rating) ->
                rows.add(
                    new Update(
                        true,
                        id,
                        state.nickname(),
                        version,
                        rating.rating(),
                        rating.games(),
                        queue)));
    return rows;
  }

  /**
   * The updates committed while the last ones were written, in one script call (one Redis round
   * trip for a batch of results' ten players, instead of two calls a player).
   */
  static Mono<Void> write(ReactiveStringRedisTemplate redis, List<Update> batch) {
    List<String> keys = new ArrayList<>(List.of(SCORES, NICKNAMES, NICKNAME_VERSIONS));
    Map<String, Integer> queueKeys = new HashMap<>();
    List<String> args = new ArrayList<>(7 * batch.size());
    for (Update u : batch) {
      int index = 0;
      if (u.rating()) {
        index =
            queueKeys.computeIfAbsent(
                u.queue(),
                q -> {
                  keys.add(ratings(q));
                  keys.add(games(q));
                  return keys.size() - 1; // Lua counts from 1: the rating zset's index
                });
      }
      args.add(u.rating() ? "r" : "x");
      args.add(u.playerId());
      args.add(u.nickname());
      args.add(Long.toString(u.value()));
      args.add(Integer.toString(u.games()));
      args.add(Integer.toString(index));
      args.add(Long.toString(u.version()));
    }
    return redis.execute(RECORD_ALL, keys, args).then();
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
