package dev.citadel.gateway.ratelimit;

import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets in this replica's memory, one a key: what limits a player while the shared bucket
 * in Redis cannot be asked. Each replica gives the whole rate, so with n replicas a player may get
 * n times it for as long as Redis is away: bounded, where letting everything through was not. At
 * most {@link #MAX_KEYS} keys (a quarter goes when full).
 */
final class LocalBuckets {
  static final int MAX_KEYS = 100_000;

  private static final class Bucket {
    double tokens;
    long at;

    Bucket(double tokens, long at) {
      this.tokens = tokens;
      this.at = at;
    }
  }

  private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

  /**
   * Takes {@code tokens} from {@code key}'s bucket (refilled at {@code perSecond}) if it holds
   * them.
   */
  boolean take(String key, int tokens, int perSecond, long burst, long nowNanos) {
    if (buckets.size() >= MAX_KEYS) {
      Iterator<String> it = buckets.keySet().iterator();
      while (buckets.size() > MAX_KEYS * 3 / 4 && it.hasNext()) {
        it.next();
        it.remove();
      }
    }
    Bucket b = buckets.computeIfAbsent(key, k -> new Bucket(burst, nowNanos));
    synchronized (b) {
      double refilled = Math.max(0, nowNanos - b.at) / 1e9 * perSecond;
      b.tokens = Math.min(burst, b.tokens + refilled);
      b.at = Math.max(b.at, nowNanos);
      if (b.tokens >= tokens) {
        b.tokens -= tokens;
        return true;
      }
      return false;
    }
  }
}
