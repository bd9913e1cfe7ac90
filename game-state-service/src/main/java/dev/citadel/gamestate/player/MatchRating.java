package dev.citadel.gamestate.player;

import static dev.citadel.gamestate.player.PlayerCommand.RatingRules.MAX_K;
import static dev.citadel.gamestate.player.PlayerCommand.RatingRules.MAX_RATING;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A player's part of a match result: deciding it and applying it. Pure. */
final class MatchRating {

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
    if (c.gold() > 0 && state.gold() > Long.MAX_VALUE - c.gold()) {
      throw PlayerRejected.conflict("gold would overflow");
    }
    long experience = state.experience() + c.experience();
    // A result is rated after the match's end is recorded: the player leaves its room with it, as
    // the seats' leave would (also when the seat has not landed yet, so a late one is refused;
    // not again if the player left already). The seats leave for an end with a result only if
    // this transaction is not stored a while later (see MatchSeats). One event for the whole
    // result: a result of ten players stores ten events, not forty.
    boolean leaves = !Player.decide(new PlayerCommand.LeaveRoom(c.matchId()), state).isEmpty();
    return List.of(
        new PlayerEvent.MatchRated(
            c.matchId(),
            c.queue(),
            c.outcome(),
            now.rating(),
            after,
            now.games() + 1,
            c.gold(),
            c.experience(),
            Optional.of(
                new PlayerEvent.Settled(
                    experience, Math.max(state.level(), Player.levelFor(experience)), leaves))));
  }

  static PlayerState evolve(PlayerState s, PlayerEvent.MatchRated e) {
    Map<String, PlayerState.Rating> ratings = new HashMap<>(s.ratings());
    ratings.put(e.queue(), new PlayerState.Rating(e.after(), e.games()));
    List<PlayerEvent.MatchRated> recent = new ArrayList<>(s.recentMatches());
    recent.add(e);
    while (recent.size() > PlayerState.RECENT_MATCHES) {
      recent.remove(0);
    }
    PlayerState rated = s.withRatings(ratings).withRecentMatches(recent);
    if (e.settled().isEmpty()) {
      return rated; // the older form: its rewards and leave are events of their own
    }
    PlayerEvent.Settled settled = e.settled().get();
    rated =
        rated
            .withGold(rated.gold() + e.gold())
            .withExperience(settled.experienceTotal())
            .withLevel(settled.level());
    return settled.leftRoom() ? rated.leaving(e.matchId()) : rated;
  }
}
