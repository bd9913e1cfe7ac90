package dev.citadel.gamestate.player;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** A player's part of a match result: deciding it and applying it. Pure. */
final class MatchRating {
  private static final int MAX_K = 400;
  private static final int MAX_RATING = 100_000;

  private MatchRating() {}

  static List<PlayerEvent> decide(PlayerCommand.RateMatch c, PlayerState state) {
    if (c.matchId() == null || !Player.MATCH_ID.matcher(c.matchId()).matches()) {
      throw PlayerRejected.invalid("bad match id '" + c.matchId() + "'");
    }
    if (c.queue() == null || !Player.QUEUE.matcher(c.queue()).matches()) {
      throw PlayerRejected.invalid("bad queue '" + c.queue() + "'");
    }
    if (c.outcome() == null || !(c.expected() >= 0 && c.expected() <= 1)) {
      throw PlayerRejected.invalid("an outcome and an expected score in [0, 1] are required");
    }
    PlayerCommand.RatingRules r = c.rules();
    if (r == null
        || r.k() < 0
        || r.k() > MAX_K
        || r.provisionalK() < 0
        || r.provisionalK() > MAX_K
        || r.provisionalGames() < 0
        || r.initial() < 0
        || r.initial() > MAX_RATING) {
      throw PlayerRejected.invalid("bad rating rules " + r);
    }
    if (c.gold() < 0
        || c.gold() > Player.MAX_AMOUNT
        || c.experience() < 0
        || c.experience() > Player.MAX_AMOUNT) {
      throw PlayerRejected.invalid("rewards must be between 0 and " + Player.MAX_AMOUNT);
    }
    var before =
        state.recentMatches().stream().filter(m -> m.matchId().equals(c.matchId())).findFirst();
    if (before.isPresent()) {
      if (before.get().outcome() != c.outcome()) {
        throw PlayerRejected.conflict(
            "match " + c.matchId() + " was rated " + before.get().outcome() + " already");
      }
      return List.of(); // this match is rated already: a repeat changes nothing
    }
    PlayerState.Rating now = state.ratingIn(c.queue(), r.initial());
    int k = now.games() < r.provisionalGames() ? r.provisionalK() : r.k();
    int after =
        Math.max(
            0,
            Math.min(
                MAX_RATING,
                now.rating() + (int) Math.round(k * (c.outcome().score() - c.expected()))));
    List<PlayerEvent> events = new ArrayList<>();
    events.add(
        new PlayerEvent.MatchRated(
            c.matchId(),
            c.queue(),
            c.outcome(),
            now.rating(),
            after,
            now.games() + 1,
            c.gold(),
            c.experience()));
    if (c.gold() > 0) {
      if (state.gold() > Long.MAX_VALUE - c.gold()) {
        throw PlayerRejected.conflict("gold would overflow");
      }
      events.add(new PlayerEvent.GoldEarned(c.gold(), "match " + c.matchId()));
    }
    if (c.experience() > 0) {
      events.addAll(Player.decide(new PlayerCommand.GainExperience(c.experience()), state));
    }
    // A result is rated after the match's end is recorded: the player leaves its room here, in
    // the same transaction, as the seats' leave would (also when the seat has not landed yet, so a
    // late one is refused; nothing if the player left already). The seats leave for an end with a
    // result only if this transaction is not stored a while later (or, past a bound, at once: see
    // MatchSeats).
    events.addAll(Player.decide(new PlayerCommand.LeaveRoom(c.matchId()), state));
    return events;
  }

  static PlayerState evolve(PlayerState s, PlayerEvent.MatchRated e) {
    Map<String, PlayerState.Rating> ratings = new HashMap<>(s.ratings());
    ratings.put(e.queue(), new PlayerState.Rating(e.after(), e.games()));
    List<PlayerEvent.MatchRated> recent = new ArrayList<>(s.recentMatches());
    recent.add(e);
    while (recent.size() > PlayerState.RECENT_MATCHES) {
      recent.remove(0);
    }
    return s.withRatings(ratings).withRecentMatches(recent);
  }
}
