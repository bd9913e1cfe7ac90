package dev.citadel.match.pipeline;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/**
 * Who ended in which match and room, as match-service records it ({@code {mq}:QUEUE:assigned}:
 * player -> "match|channel|room").
 */
record Assignments(
    Map<String, String> assigned,
    Map<String, List<String>> playersByMatch,
    Map<String, Set<String>> roomsByMatch) {

  static Assignments read(ReactiveStringRedisTemplate redis, String queue) {
    Map<String, String> assigned =
        redis
            .<String, String>opsForHash()
            .entries("{mq}:" + queue + ":assigned")
            .collectMap(e -> e.getKey(), e -> e.getValue())
            .block();
    Map<String, List<String>> players = new HashMap<>();
    Map<String, Set<String>> rooms = new HashMap<>();
    assigned.forEach(
        (player, value) -> {
          String[] f = value.split("\\|");
          players.computeIfAbsent(f[0], k -> new ArrayList<>()).add(player);
          rooms.computeIfAbsent(f[0], k -> new HashSet<>()).add(f[1] + "/" + f[2]);
        });
    return new Assignments(assigned, players, rooms);
  }

  /** Every room any match was given ("channel/room"). */
  Set<String> rooms() {
    Set<String> all = new HashSet<>();
    roomsByMatch.values().forEach(all::addAll);
    return all;
  }
}
