package dev.citadel.gateway.routing;

/**
 * Bytes held by bodies being read (the capacity of their buffers), bounded in all and per client
 * address (IPv6 per /64): one address sending slowly cannot hold the budget everyone shares.
 */
final class BodyBudget {
  private final long max;
  private final long perClient;
  private final java.util.concurrent.atomic.AtomicLong held =
      new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.ConcurrentHashMap<String, Long> byClient =
      new java.util.concurrent.ConcurrentHashMap<>();

  BodyBudget(long max, long perClient) {
    this.max = max;
    this.perClient = perClient;
  }

  /** Takes {@code bytes} for {@code client} if they fit, in all and in its share. */
  boolean take(String client, long bytes) {
    long now;
    do {
      now = held.get();
      if (now + bytes > max) {
        return false;
      }
    } while (!held.compareAndSet(now, now + bytes));
    boolean[] fits = {false};
    byClient.compute(
        client,
        (k, had) -> {
          long before = had == null ? 0 : had;
          if (before + bytes > perClient) {
            return had;
          }
          fits[0] = true;
          return before + bytes;
        });
    if (!fits[0]) {
      held.addAndGet(-bytes);
    }
    return fits[0];
  }

  void give(String client, long bytes) {
    if (bytes == 0) {
      return;
    }
    held.addAndGet(-bytes);
    byClient.computeIfPresent(client, (k, had) -> had - bytes <= 0 ? null : had - bytes);
  }

  long held() {
    return held.get();
  }

  /** Clients holding some of the budget now. */
  int clients() {
    return byClient.size();
  }
}
