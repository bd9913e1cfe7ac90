package dev.citadel.gateway.ratelimit;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Tokens this gateway replica took from a key's shared bucket ahead of use, spent here without
 * asking Redis again. Pure: the clock is passed in.
 *
 * <p>A lease never admits more than the bucket gave: every token spent here was taken from it. A
 * lease lasts {@code leaseNanos}; what is left then goes back to the bucket with the key's next ask
 * ({@link Ask#returned}). Leases are sized by use: a key's next lease doubles (up to the most the
 * caller allows) when its last was used up before it expired, stays when it was used up as it
 * expired, and halves when tokens were left. A key new here (or swept) starts at one: a key that
 * sends a request now and then asks the bucket for one token each time, exactly as without leases;
 * only a busy key holds more than one. One lease ask per key is in flight at a time: requests that
 * miss meanwhile ask for their own tokens only, as without leases (each asking for a whole lease, a
 * burst of parallel requests took the bucket's tokens into this replica and refused the rest).
 */
public final class Leases {
  private final long leaseNanos;
  private final Map<String, Lease> leases = new ConcurrentHashMap<>();
  private final AtomicLong lastSweep;

  /** Numbers every lease ask, across keys and their leases (a swept key's new lease included). */
  private final AtomicLong asks = new AtomicLong();

  /**
   * What to ask the key's bucket for.
   *
   * @param number this lease ask's number, unique in this replica (a lease ask ends by it)
   */
  public record Ask(int wanted, int returned, boolean lease, long number) {}

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
   * What to ask the bucket for, the request's own tokens included: a lease (at most {@code
   * maxLease}, and never fewer than {@code tokens}) unless one is being asked for already, then the
   * request's own tokens; either way with what an expired lease left unused, given back. A lease
   * ask ends with {@link #granted}, {@link #asked} (refused) or {@link #failed} (no reply).
   */
  public Ask ask(String key, int tokens, int maxLease, long nowNanos) {
    sweep(nowNanos); // every key that comes here asks first, granted or not (Redis down)
    return leases
        .computeIfAbsent(key, k -> new Lease(nowNanos))
        .ask(tokens, Math.max(1, maxLease), nowNanos, leaseNanos, asks::incrementAndGet);
  }

  /**
   * The bucket gave {@code given} tokens to a lease ask, of which the request spends {@code spent}:
   * the rest become the key's lease, added to what it still holds, and the ask has ended.
   */
  public void granted(String key, Ask ask, int given, int spent, long bucketLeft, long nowNanos) {
    leases.compute(
        key,
        (k, lease) -> {
          Lease l = lease == null ? new Lease(nowNanos) : lease;
          l.add(given, given - spent, bucketLeft, nowNanos, nowNanos + leaseNanos);
          l.asked(ask.number());
          return l;
        });
  }

  /**
   * A lease ask was refused (a granted one ended with {@link #granted}): the key's next miss may
   * ask for a lease again. Later asks are not touched.
   */
  public void asked(String key, Ask ask) {
    Lease lease = leases.get(key);
    if (lease != null && ask.lease()) {
      lease.asked(ask.number());
    }
  }

  /**
   * A lease ask got no answer (Redis failed, or the request was cancelled): whatever the script
   * took is lost with the reply, so the key's next ask is for one token, not a whole lease (a slow
   * Redis would otherwise drain a busy player's bucket sixteen tokens a request).
   */
  public void failed(String key, Ask ask) {
    Lease lease = leases.get(key);
    if (lease != null && ask.lease()) {
      lease.failed(ask.number());
    }
  }

  /**
   * Tokens the key may still spend, as far as this replica knows: its lease and what the bucket
   * held when the lease was taken (for the remaining-tokens header).
   */
  public long remaining(String key, long nowNanos) {
    Lease lease = leases.get(key);
    return lease == null ? 0 : lease.remaining(nowNanos);
  }

  int size() {
    return leases.size();
  }

  /**
   * At most once per lease time: drops the keys whose leases expired two lease times ago or more
   * (memory stays bounded by the keys seen in the last few lease times).
   */
  private void sweep(long nowNanos) {
    long last = lastSweep.get();
    if (nowNanos - last < leaseNanos || !lastSweep.compareAndSet(last, nowNanos)) {
      return;
    }
    for (String key : leases.keySet()) {
      leases.computeIfPresent(key, (k, l) -> l.idle(nowNanos, leaseNanos) ? null : l);
    }
  }

  /** One key's lease; its own lock (a key's requests may run on several event loops). */
  private static final class Lease {
    private int size;
    private int tokens;
    private long bucketLeft;
    private long expiresNanos;
    private boolean asking;
    private long askedNanos;
    private long askNumber; // of the lease ask in flight, or of the last one

    Lease(long now) {
      this.expiresNanos = now; // nothing to spend yet
      this.askedNanos = now;
    }

    synchronized boolean take(int n, long now) {
      if (now - expiresNanos >= 0 || tokens < n) {
        return false;
      }
      tokens -= n;
      return true;
    }

    synchronized Ask ask(int n, int max, long now, long leaseNanos, LongSupplier numbers) {
      boolean expired = now - expiresNanos >= 0;
      int returned = 0;
      int next;
      if (!expired) {
        next = size * 2; // used up in time: busier than this lease
      } else if (tokens == 0) {
        next = size; // used up as it expired: about right
      } else {
        next = size / 2; // tokens left unused: too large; they go back
        returned = tokens;
        tokens = 0;
      }
      // A lease ask that never ended (it cannot, but a flag must not outlive its ask) is over
      // after a lease time.
      if (asking && now - askedNanos < leaseNanos) {
        return new Ask(n, returned, false, 0);
      }
      asking = true;
      askedNanos = now;
      askNumber = numbers.getAsLong();
      return new Ask(Math.max(n, Math.max(1, Math.min(max, next))), returned, true, askNumber);
    }

    synchronized void add(int leased, int kept, long left, long now, long until) {
      if (now - expiresNanos >= 0) {
        tokens = 0; // expired and not given back by an ask: lost
      }
      size = leased;
      tokens += kept;
      bucketLeft = left;
      expiresNanos = until;
    }

    // Only while that ask is in flight: a cancel that comes after the reply (the gateway cancels
    // upstream when a client goes away during the proxied call) must not end or shrink anything.
    synchronized void asked(long number) {
      if (asking && askNumber == number) {
        asking = false;
      }
    }

    synchronized void failed(long number) {
      if (asking && askNumber == number) {
        asking = false;
        size = 0; // the next lease ask is for one token
      }
    }

    synchronized long remaining(long now) {
      return now - expiresNanos >= 0 ? 0 : tokens + bucketLeft;
    }

    /**
     * Expired two lease times ago with no ask in flight: forgotten (a key that comes back within
     * two lease times of its lease's end still gives back what it left).
     */
    synchronized boolean idle(long now, long leaseNanos) {
      return now - expiresNanos >= 2 * leaseNanos && !(asking && now - askedNanos < leaseNanos);
    }
  }
}
