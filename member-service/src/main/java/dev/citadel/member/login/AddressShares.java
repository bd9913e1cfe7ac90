package dev.citadel.member.login;

import dev.citadel.member.account.MemberRejected;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import reactor.core.publisher.Mono;

/**
 * How many password checks and hashes (bcrypt) one address may have running or waiting on this
 * replica at once; past it the request is refused at once as busy (503, Retry-After). The log-in
 * throttle counts failures only, and a success takes its count back: without this share one player
 * repeating their own correct log-in filled bcrypt's queue, and everyone else was refused. Memory:
 * one counter per address with a check in flight, gone when its last one ends.
 */
public final class AddressShares {
  private final int perAddress;
  private final ConcurrentHashMap<String, AtomicInteger> inFlight = new ConcurrentHashMap<>();

  public AddressShares(int perAddress) {
    if (perAddress < 1) {
      throw new IllegalArgumentException("at least one check per address, not " + perAddress);
    }
    this.perAddress = perAddress;
  }

  /**
   * {@code work} within {@code address}'s share: counted from subscription to its end. IPv6
   * addresses count by their /64, as the log-in throttle counts them: a client holds a whole /64.
   */
  public <T> Mono<T> within(String clientAddress, Mono<T> work) {
    return Mono.defer(
        () -> {
          String address = dev.citadel.web.security.ClientAddress.bucket(clientAddress);
          boolean[] admitted = new boolean[1];
          inFlight.compute(
              address,
              (a, n) -> {
                AtomicInteger count = n == null ? new AtomicInteger() : n;
                admitted[0] = count.get() < perAddress;
                if (admitted[0]) {
                  count.incrementAndGet();
                }
                return count.get() == 0 ? null : count;
              });
          if (!admitted[0]) {
            return Mono.error(
                new MemberRejected(
                    MemberRejected.Kind.BUSY,
                    "too many sign-ups and log-ins from this address at once; try again in a"
                        + " second"));
          }
          return work.doFinally(signal -> release(address));
        });
  }

  private void release(String address) {
    inFlight.computeIfPresent(address, (a, n) -> n.decrementAndGet() == 0 ? null : n);
  }

  /** Addresses with a check in flight now (for tests and a gauge). */
  public int addresses() {
    return inFlight.size();
  }
}
