package dev.citadel.match.queue;

import dev.citadel.match.domain.Ticket;
import java.util.ArrayList;
import java.util.List;

/** A match waiting for its room, as stored in Redis: {@code created#attempt#p|elo|at|nick;...}. */
public record PendingMatch(String matchId, long createdAtMs, int attempt, List<Ticket> players) {

  static PendingMatch parse(String matchId, String stored) {
    String[] parts = stored.split("#", 3);
    List<Ticket> players = new ArrayList<>();
    for (String entry : parts[2].split(";")) {
      String[] f = entry.split("\\|", 4);
      players.add(new Ticket(f[0], Integer.parseInt(f[1]), Long.parseLong(f[2]), f[3]));
    }
    return new PendingMatch(
        matchId, Long.parseLong(parts[0]), Integer.parseInt(parts[1]), List.copyOf(players));
  }
}
