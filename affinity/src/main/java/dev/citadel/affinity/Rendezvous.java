package dev.citadel.affinity;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Optional;
import java.util.function.Function;

/**
 * Rendezvous (highest random weight) hashing: a key goes to the node with the highest {@code
 * weight(key, node)}. Every gateway computes the same answer from the same node set with no shared
 * state; adding a node moves only the keys it now wins (about 1/N), removing one moves only its
 * keys. Pure.
 */
public final class Rendezvous {
  private Rendezvous() {}

  public static <T> Optional<T> pick(String key, Collection<T> nodes, Function<T, String> nodeId) {
    T best = null;
    long bestWeight = 0;
    String bestId = null;
    for (T node : nodes) {
      String id = nodeId.apply(node);
      long w = weight(key, id);
      // Unsigned compare; ties (practically impossible) broken by id so all gateways agree.
      if (best == null
          || Long.compareUnsigned(w, bestWeight) > 0
          || (w == bestWeight && id.compareTo(bestId) < 0)) {
        best = node;
        bestWeight = w;
        bestId = id;
      }
    }
    return Optional.ofNullable(best);
  }

  static long weight(String key, String node) {
    long h = 0xcbf29ce484222325L; // FNV-1a 64 over node, a separator, key
    for (byte b : node.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    h = (h ^ 0xff) * 0x100000001b3L;
    for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
      h = (h ^ (b & 0xff)) * 0x100000001b3L;
    }
    return mix(h);
  }

  /** splitmix64's finalizer: FNV alone clusters similar ids. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
