package dev.citadel.gamestate.http;

import dev.citadel.gamestate.player.PlayerState;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/** A player as the API shows it. */
public record PlayerView(
    String id,
    String nickname,
    int level,
    long experience,
    long gold,
    Map<String, Integer> inventory,
    Seat room,
    Instant createdAt,
    Friends friends,
    Map<String, Rating> ratings,
    java.util.List<MatchSummary> recentMatches,
    long version) {

  /** A rating in one queue. */
  public record Rating(int rating, int games) {}

  /** A rated match, newest first in the list. */
  public record MatchSummary(
      String matchId,
      String queue,
      String outcome,
      int ratingBefore,
      int ratingAfter,
      long gold,
      long experience) {}

  /** Friends, and open friend requests either way, sorted. */
  public record Friends(
      java.util.List<String> friends,
      java.util.List<String> requested,
      java.util.List<String> askedBy) {}

  public record Seat(String matchId, int channel, int room) {}

  public static PlayerView of(PlayerState s, long version) {
    return new PlayerView(
        s.id(),
        s.nickname(),
        s.level(),
        s.experience(),
        s.gold(),
        new TreeMap<>(s.inventory()),
        s.room().map(r -> new Seat(r.matchId(), r.channel(), r.room())).orElse(null),
        s.createdAt(),
        new Friends(
            with(s, PlayerState.Relation.FRIENDS),
            with(s, PlayerState.Relation.REQUESTED),
            with(s, PlayerState.Relation.ASKED)),
        ratingsOf(s),
        recentOf(s),
        version);
  }

  private static Map<String, Rating> ratingsOf(PlayerState s) {
    Map<String, Rating> ratings = new TreeMap<>();
    s.ratings().forEach((q, r) -> ratings.put(q, new Rating(r.rating(), r.games())));
    return ratings;
  }

  private static java.util.List<MatchSummary> recentOf(PlayerState s) {
    java.util.List<MatchSummary> recent = new java.util.ArrayList<>();
    for (int i = s.recentMatches().size() - 1; i >= 0; i--) {
      var m = s.recentMatches().get(i);
      recent.add(
          new MatchSummary(
              m.matchId(),
              m.queue(),
              m.outcome().name(),
              m.before(),
              m.after(),
              m.gold(),
              m.experience()));
    }
    return recent;
  }

  private static java.util.List<String> with(PlayerState s, PlayerState.Relation relation) {
    return s.relations().entrySet().stream()
        .filter(e -> e.getValue() == relation)
        .map(Map.Entry::getKey)
        .sorted()
        .toList();
  }
}
