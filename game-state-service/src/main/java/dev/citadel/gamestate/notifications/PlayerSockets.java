package dev.citadel.gamestate.notifications;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The open sockets of each player on this instance, at most {@code max} each: one more pushes the
 * player's oldest out. A client that reconnects (a new network, a crashed app) is never refused for
 * a socket of its own the server has not yet seen go; a client that opens sockets in a loop holds
 * {@code max} at a time, not one per attempt.
 */
final class PlayerSockets<S> {
  private final int max;
  private final Map<String, Deque<S>> open = new ConcurrentHashMap<>();

  PlayerSockets(int max) {
    if (max < 1) {
      throw new IllegalArgumentException("max must be at least 1: " + max);
    }
    this.max = max;
  }

  /**
   * Registers {@code socket} as the player's newest; answers the ones it pushes out, oldest first.
   */
  List<S> add(String player, S socket) {
    List<S> out = new ArrayList<>(1);
    open.compute(
        player,
        (p, sockets) -> {
          Deque<S> now = sockets == null ? new ArrayDeque<>(2) : sockets;
          now.addLast(socket);
          while (now.size() > max) {
            out.add(now.pollFirst());
          }
          return now;
        });
    return out;
  }

  /** Forgets {@code socket} (closed, or pushed out before); nothing if it is not registered. */
  void remove(String player, S socket) {
    open.computeIfPresent(
        player,
        (p, sockets) -> {
          sockets.remove(socket);
          return sockets.isEmpty() ? null : sockets;
        });
  }
}
