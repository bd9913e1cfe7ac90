package dev.citadel.gateway.ratelimit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tokens this gateway replica took from a key's shared bucket ahead of use, spent here without
 * asking Redis again. Pure: the clock is passed in.
 *
 * <p>A lease never admits more than the bucket gave: every token spent here was taken from it. A
 * lease lasts {@code leaseNanos}; what is left then is dropped (the key paid for tokens it did not
 * use), so a lease is sized by use: a key's next lease doubles (up to the most the caller allows)
 * when its last was used up before it expired, stays when it was used up as it expired, and halves
 * when tokens were left. A key new here (or swept) starts at one: a key that sends a request now
 * and then asks the bucket for one token each time, exactly as without leases; only a busy key
 * holds more than one, and what it can lose is bounded by the largest lease.
 */
public final class Leases {
  private final long leaseNanos;
  private final Map<String, Lease> leases = new ConcurrentHashMap<>();
  private final AtomicLong lastSweep;

  /**
   * @param leaseNanos how long taken tokens may be spent
   */
  public Leases(long leaseNanos, long nowNanos) {
    if (leaseNanos <= 0) {
      throw new IllegalArgumentException("a lease must last a positive time");
    }
    this.leaseNanos = leaseNanos;
    this.lastSweep = new AtomicLong(nowNanos);
  }

  /** Spends {@code tokens} from the key's live lease: false when it has not that many left. */
  public boolean take(String key, int tokens, long nowNanos) {
    Lease lease = leases.get(key);
    return lease != null && lease.take(tokens, nowNanos);
  }

  /**
   * How many tokens to ask the bucket for, the request's own included (at least {@code tokens}, at
   * most {@code maxLease} beyond that).
   */
  public int wanted(String key, int tokens, int maxLease, long nowNanos) {
    Lease lease = leases.get(key);
    int next = lease == null ? 1 : lease.nextSize(nowNanos, Math.max(1, maxLease));
    return Math.max(tokens, next);
  }

  /**
   * The bucket gave {@code granted} tokens (of which the request spends {@code spent}): the rest
   * become the key's lease, added to what it still holds.
   */
  public void granted(String key, int granted, int spent, long nowNanos) {
    sweep(nowNanos);
    leases.compute(
        key,
        (k, lease) -> {
          Lease l = lease == null ? new Lease() : lease;
          l.add(granted, granted - spent, nowNanos, nowNanos + leaseNanos);
          return l;
        });
  }

  /** Tokens the key may still spend here (for the remaining-tokens header). */
  public int left(String key, long nowNanos) {
    Lease lease = leases.get(key);
    return lease == null ? 0 : lease.left(nowNanos);
  }

  int size() {
    return leases.size();
  }

  /** At most once per lease time: drops the keys whose leases expired (memory stays bounded). */
  private void sweep(long nowNanos) {
    long last = lastSweep.get();
    if (nowNanos - last < leaseNanos || !lastSweep.compareAndSet(last, nowNanos)) {
      return;
    }
    for (String key : leases.keySet()) {
      leases.computeIfPresent(key, (k, l) -> l.expired(nowNanos) ? null : l);
    }
  }

  /** One key's lease; its own lock (a key's requests may run on several event loops). */
  private static final class Lease {
    private int size;
    private int tokens;
    private long expiresNanos;

    synchronized boolean take(int n, long now) {
      if (now - expiresNanos >= 0 || tokens < n) {
        return false;
      }
      tokens -= n;
      return true;
    }

    synchronized int nextSize(long now, int max) {
      int next;
      if (now - expiresNanos < 0) {
        next = size * 2; // used up in time: busier than this lease
      } else if (tokens == 0) {
        next = size; // used up as it expired: about right
      } else {
        next = size / 2; // tokens left unused: too large
      }
      return Math.max(1, Math.min(max, next));
    }

    synchronized void add(int leased, int kept, long now, long until) {
      if (now - expiresNanos >= 0) {
        tokens = 0;
      }
      size = leased;
      tokens += kept;
      expiresNanos = until;
    }

    synchronized int left(long now) {
      return now - expiresNanos >= 0 ? 0 : tokens;
    }

    synchronized boolean expired(long now) {
      return now - expiresNanos >= 0;
    }
  }
}
