package dev.citadel.gamestate.api;

import dev.citadel.gamestate.http.PlayerRequests;
import dev.citadel.gamestate.rooms.MatchRooms;
import dev.citadel.web.problem.ApiException;
import java.util.List;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/**
 * Ending a game, for the game server that runs the room (internal: the gateway never routes {@code
 * /internal/**}).
 */
@RestController
public class MatchController {
  private static final Pattern MATCH_ID = Pattern.compile("[A-Za-z0-9_.-]{1,128}");

  /** The ended game: its freed room and its players, now back in the lobby. */
  public record EndedView(
      String matchId, String queue, int channel, int room, List<String> players) {}

  private final MatchRooms rooms;

  public MatchController(MatchRooms rooms) {
    this.rooms = rooms;
  }

  /**
   * A match as a game server sees it: {@code teams} (team 0, then team 1) with each player's
   * nickname and rating at match time; {@code result} once it ended ({@code NONE}: ended without
   * one), with the players' {@code scores} if the game server sent them.
   */
  public record MatchView(
      String matchId,
      String queue,
      int channel,
      int room,
      List<String> players,
      String state,
      List<List<TeamMember>> teams,
      java.time.Instant placedAt,
      java.time.Instant endedAt,
      String result,
      java.util.Map<String, Long> scores) {}

  /** A player in a team. */
  public record TeamMember(String playerId, String nickname, int rating) {}

  static MatchView view(dev.citadel.gamestate.rooms.RoomAllocator.Status s) {
    List<List<TeamMember>> teams =
        List.of(new java.util.ArrayList<>(), new java.util.ArrayList<>());
    for (var p : s.lineup()) {
      if (p.getTeam() == 0 || p.getTeam() == 1) {
        teams.get(p.getTeam()).add(new TeamMember(p.getPlayerId(), p.getNickname(), p.getElo()));
      }
    }
    return new MatchView(
        s.matchId(),
        s.queue(),
        s.channel(),
        s.room(),
        s.players(),
        s.ended() ? "ENDED" : "IN_ROOM",
        teams,
        s.lineup().isEmpty() ? null : s.placedAt(),
        s.end().map(e -> java.time.Instant.ofEpochMilli(e.getEndedAtEpochMs())).orElse(null),
        s.end().map(e -> PlayerRequests.resultName(e.getResult())).orElse(null),
        s.end().map(e -> java.util.Map.copyOf(e.getScoresMap())).orElse(null));
  }

  /**
   * The match's room and players, for the game server that runs it ({@code match.read}): {@code
   * state} is {@code IN_ROOM} until the game ends, then {@code ENDED}.
   */
  @GetMapping("/internal/matches/{matchId}")
  public Mono<MatchView> match(@PathVariable String matchId) {
    requireMatchId(matchId);
    return rooms
        .status(matchId)
        .map(
            found ->
                found
                    .map(MatchController::view)
                    .orElseThrow(
                        () ->
                            new ApiException(
                                HttpStatus.NOT_FOUND, "no match " + matchId + " in a room")));
  }

  private static void requireMatchId(String matchId) {
    if (!MATCH_ID.matcher(matchId).matches()) {
      throw ApiException.badRequest("match id must be 1-128 letters, digits, '_', '.' or '-'");
    }
  }

  /** Frees the match's room and sends its players back to the lobby; calling again is harmless. */
  @PostMapping("/internal/matches/{matchId}/end")
  public Mono<EndedView> end(@PathVariable String matchId) {
    requireMatchId(matchId);
    return rooms
        .end(matchId)
        .map(
            ended ->
                ended
                    .map(
                        e ->
                            new EndedView(
                                e.matchId(), e.queue(), e.channel(), e.room(), e.players()))
                    .orElseThrow(
                        () ->
                            new ApiException(
                                HttpStatus.NOT_FOUND, "no match " + matchId + " in a room")));
  }
}
