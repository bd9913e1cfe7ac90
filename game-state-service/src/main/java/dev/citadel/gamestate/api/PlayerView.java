package dev.citadel.gamestate.api;

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
    long version) {

  public record Seat(String matchId, int channel, int room) {}

  static PlayerView of(PlayerState s, long version) {
    return new PlayerView(
        s.id(),
        s.nickname(),
        s.level(),
        s.experience(),
        s.gold(),
        new TreeMap<>(s.inventory()),
        s.room().map(r -> new Seat(r.matchId(), r.channel(), r.room())).orElse(null),
        s.createdAt(),
        version);
  }
}
