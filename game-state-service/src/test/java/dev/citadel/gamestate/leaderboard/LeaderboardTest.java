package dev.citadel.gamestate.leaderboard;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.gamestate.player.Outcome;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import reactor.core.publisher.Mono;

/** The leaderboards in real Redis, written many players to a script call. */
@CitadelInfra
class LeaderboardTest {
  static LettuceConnectionFactory factory;
  static ReactiveStringRedisTemplate redis;
  static Leaderboard leaderboard;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    redis = new ReactiveStringRedisTemplate(factory);
    leaderboard = new Leaderboard(redis, new SimpleMeterRegistry());
  }

  @AfterAll
  static void close() {
    factory.destroy();
  }

  static String unique(String prefix) {
    return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }

  static PlayerEvent.MatchRated rated(String queue, int after, int games, long experienceTotal) {
    return new PlayerEvent.MatchRated(
        "m-" + games,
        queue,
        Outcome.WIN,
        after - 10,
        after,
        games,
        5,
        20,
        Optional.of(new PlayerEvent.Settled(experienceTotal, 1, true)));
  }

  static PlayerState player(String id, String nickname, long experience) {
    return PlayerState.initial(id).created(nickname, Instant.EPOCH).withExperience(experience);
  }

  @Test
  void results_committed_together_rank_every_player_in_their_own_queue() {
    String ranked = unique("r");
    String casual = unique("c");
    List<Mono<Void>> commits = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      String id = unique("p");
      String queue = i % 2 == 0 ? ranked : casual;
      long experience = 100 + i;
      commits.add(
          leaderboard.committed(
              id,
              player(id, "nick" + i, experience),
              7,
              List.of(rated(queue, 1000 + i, 1, experience))));
    }

    Mono.when(commits).block(Duration.ofSeconds(10));

    List<Leaderboard.RatingEntry> top = leaderboard.topRated(ranked, 3).collectList().block();
    assertThat(top).extracting(Leaderboard.RatingEntry::rating).containsExactly(1028, 1026, 1024);
    assertThat(top)
        .extracting(Leaderboard.RatingEntry::nickname)
        .containsExactly("nick28", "nick26", "nick24");
    assertThat(leaderboard.topRated(casual, 100).collectList().block())
        .hasSize(15)
        .extracting(Leaderboard.RatingEntry::rating)
        .startsWith(1029, 1027);
  }

  @Test
  void one_call_with_three_queues_and_experience_puts_each_update_in_its_own_place() {
    List<String> queues = List.of(unique("a"), unique("b"), unique("c"));
    List<Leaderboard.Update> batch = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      String id = "p" + i + queues.get(0);
      batch.add(new Leaderboard.Update(true, id, "n" + i, 2, 1000 + i, 1, queues.get(i % 3)));
      batch.add(new Leaderboard.Update(false, id, "n" + i, 2, 10 * i, 0, ""));
    }

    Leaderboard.write(redis, batch).block(Duration.ofSeconds(10));

    for (int q = 0; q < 3; q++) {
      assertThat(leaderboard.topRated(queues.get(q), 10).collectList().block())
          .extracting(Leaderboard.RatingEntry::rating)
          .containsExactly(1006 + q, 1003 + q, 1000 + q);
    }
    assertThat(
            redis
                .opsForZSet()
                .score(Leaderboard.SCORES, "p8" + queues.get(0))
                .block(Duration.ofSeconds(10)))
        .isEqualTo(80.0);
    assertThat(
            redis
                .opsForHash()
                .get(Leaderboard.NICKNAMES, "p4" + queues.get(0))
                .block(Duration.ofSeconds(10)))
        .isEqualTo("n4");
  }

  @Test
  void an_older_update_written_after_a_newer_one_never_replaces_it() {
    String queue = unique("q");
    String id = unique("p");
    // The older updates are from before a rename (version 9, "ann"), the newer after (10, "anna").
    Leaderboard.Update newer = new Leaderboard.Update(true, id, "anna", 10, 1300, 5, queue);
    Leaderboard.Update older = new Leaderboard.Update(true, id, "ann", 9, 1250, 4, queue);
    Leaderboard.Update moreExperience = new Leaderboard.Update(false, id, "anna", 10, 500, 0, "");
    Leaderboard.Update lessExperience = new Leaderboard.Update(false, id, "ann", 9, 400, 0, "");

    Leaderboard.write(redis, List.of(newer, older, moreExperience, lessExperience))
        .block(Duration.ofSeconds(10));
    Leaderboard.write(redis, List.of(older, lessExperience)).block(Duration.ofSeconds(10));

    assertThat(leaderboard.topRated(queue, 10).collectList().block())
        .containsExactly(new Leaderboard.RatingEntry(1, id, "anna", 1300));
    assertThat(redis.opsForZSet().score(Leaderboard.SCORES, id).block(Duration.ofSeconds(10)))
        .isEqualTo(500.0);
  }

  @Test
  void a_lower_rating_from_a_later_game_replaces_the_higher_one() {
    String queue = unique("q");
    String id = unique("p");

    Leaderboard.write(
            redis,
            List.of(
                new Leaderboard.Update(true, id, "bo", 5, 1300, 5, queue),
                new Leaderboard.Update(true, id, "bo", 6, 1280, 6, queue)))
        .block(Duration.ofSeconds(10));

    assertThat(leaderboard.topRated(queue, 10).collectList().block())
        .containsExactly(new Leaderboard.RatingEntry(1, id, "bo", 1280));
  }
}
