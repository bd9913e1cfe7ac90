package dev.citadel.web.security;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.SignedJWT;
import java.net.URI;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * member-service's public keys, held in memory and never fetched per request:
 *
 * <ul>
 *   <li>keys older than {@code refreshAfter} are fetched again in the background while requests go
 *       on with the ones held;
 *   <li>a token naming a key id not held waits for a fetch (a key rotation), at most one fetch
 *       every {@code minInterval} (made-up key ids cannot make us fetch on every request);
 *   <li>a failed fetch is not tried again before {@code minInterval} (an outage of member-service
 *       costs no request a wait);
 *   <li>keys not confirmed by a fetch for {@code maxAge} verify nothing: a key dropped from the
 *       JWKS stops verifying within {@code refreshAfter}, and one that cannot be checked at all
 *       within {@code maxAge};
 *   <li>with no keys to trust (none fetched yet, or unconfirmed for {@code maxAge}) and no fetch
 *       that gives them now, a token is not refused as invalid: the lookup fails with {@link
 *       KeysUnavailable} (a 503, try again), since the token may well be good;
 *   <li>the first fetch starts when this is created ({@link #prefetch}), so the first requests
 *       after a start do not wait for it (nor fail when member-service is slow to answer then).
 * </ul>
 */
public final class CachedJwks implements Function<SignedJWT, Flux<JWK>> {
  private static final Logger log = LoggerFactory.getLogger(CachedJwks.class);

  /**
   * @param identity what remembered tokens are checked against: the previous fetch's while the keys
   *     are the same, a new object when they differ
   */
  record Fetched(JWKSet keys, Instant at, Object identity) {}

  /** No keys to verify a token with, now: the token's worth is unknown (503, not 401). */
  public static final class KeysUnavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Duration retryAfter;

    KeysUnavailable(URI uri, Duration retryAfter) {
      super(
          "no public keys to verify tokens with: cannot fetch them from " + uri,
          null,
          false,
          false);
      this.retryAfter = retryAfter;
    }

    /** When the next fetch may be tried (a second at least). */
    public Duration retryAfter() {
      return retryAfter;
    }
  }

  private final Function<URI, Mono<String>> fetcher;
  private final URI uri;
  private final Duration refreshAfter;
  private final Duration minInterval;
  private final Duration maxAge;
  private final Clock clock;
  private volatile Fetched latest;
  private Instant lastAttempt = Instant.MIN; // guarded by this
  private Mono<Fetched> inFlight; // guarded by this

  public CachedJwks(
      URI uri, Duration refreshAfter, Duration minInterval, Duration maxAge, Clock clock) {
    this(
        u -> WebClient.create().get().uri(u).retrieve().bodyToMono(String.class),
        uri,
        refreshAfter,
        minInterval,
        maxAge,
        clock);
  }

  CachedJwks(
      Function<URI, Mono<String>> fetcher,
      URI uri,
      Duration refreshAfter,
      Duration minInterval,
      Duration maxAge,
      Clock clock) {
    this.fetcher = fetcher;
    this.uri = uri;
    this.refreshAfter = refreshAfter;
    this.minInterval = minInterval;
    this.maxAge = maxAge;
    this.clock = clock;
  }

  /**
   * The key set trusted now, for whoever remembers what verified against it: the same object while
   * fetches bring the same keys, a new one when a fetch brings others (a key added or withdrawn: a
   * token remembered under the old set is verified again); null before the first fetch and once no
   * fetch has confirmed the keys for {@code maxAge} (then they verify nothing, as in {@link
   * #apply}). Asking starts the background fetch when one is due, as a token's lookup does, so a
   * remembered token cannot keep old keys in use longer than looking the key up would.
   */
  public Object current() {
    Fetched held = latest;
    if (held == null) {
      return null;
    }
    Duration age = Duration.between(held.at(), clock.instant());
    if (age.compareTo(refreshAfter) >= 0) {
      refresh().subscribe(f -> {}, e -> {}); // in the background; answer with what we hold
    }
    return age.compareTo(maxAge) >= 0 ? null : held.identity();
  }

  @Override
  public Flux<JWK> apply(SignedJWT jwt) {
    String kid = jwt.getHeader().getKeyID();
    return keys(kid).flatMapIterable(fetched -> matching(fetched, kid));
  }

  private Mono<Fetched> keys(String kid) {
    Fetched held = latest;
    if (trusted(held) && (kid == null || held.keys().getKeyByKeyId(kid) != null)) {
      if (Duration.between(held.at(), clock.instant()).compareTo(refreshAfter) >= 0) {
        refresh().subscribe(f -> {}, e -> {}); // in the background; answer with what we hold
      }
      return Mono.just(held);
    }
    // A key we do not hold, or no keys still trusted: worth a fetch, if one is allowed now.
    // Without it, keys still trusted answer (a made-up key id matches none of them: invalid);
    // none is no answer at all.
    return refresh()
        .switchIfEmpty(
            Mono.defer(
                () -> {
                  Fetched now = latest;
                  return trusted(now)
                      ? Mono.just(now)
                      : Mono.error(new KeysUnavailable(uri, untilNextFetch()));
                }));
  }

  /** How long until a fetch is allowed again ({@code minInterval} after the last attempt). */
  private synchronized Duration untilNextFetch() {
    Duration left = minInterval.minus(Duration.between(lastAttempt, clock.instant()));
    return left.compareTo(Duration.ofSeconds(1)) < 0 ? Duration.ofSeconds(1) : left;
  }

  private boolean trusted(Fetched fetched) {
    return fetched != null && Duration.between(fetched.at(), clock.instant()).compareTo(maxAge) < 0;
  }

  /**
   * Starts the first fetch in the background. Its failure (member-service not up yet) does not hold
   * the next fetch back for {@code minInterval}: the first token to verify may fetch at once.
   */
  public void prefetch() {
    refresh().switchIfEmpty(Mono.fromRunnable(this::forgetAttempt)).subscribe(f -> {}, e -> {});
  }

  private synchronized void forgetAttempt() {
    if (latest == null) {
      lastAttempt = Instant.MIN;
    }
  }

  /** Starts (or joins) a fetch unless one failed or ran less than {@code minInterval} ago. */
  private synchronized Mono<Fetched> refresh() {
    if (inFlight != null) {
      return inFlight;
    }
    Instant now = clock.instant();
    if (Duration.between(lastAttempt, now).compareTo(minInterval) < 0) {
      return Mono.empty();
    }
    lastAttempt = now;
    inFlight =
        fetcher
            .apply(uri)
            .timeout(Duration.ofSeconds(5))
            .map(body -> fetched(parse(body)))
            .doOnNext(f -> latest = f)
            .onErrorResume(
                e -> {
                  // Logged, then answered with nothing: the keys held keep serving until maxAge.
                  log.warn("cannot fetch the public keys from {}: {}", uri, e.toString());
                  return Mono.empty();
                })
            .doFinally(s -> done())
            .cache();
    return inFlight;
  }

  /** The keys as fetched now, with the held set's identity when they are the same keys. */
  private Fetched fetched(JWKSet keys) {
    Fetched held = latest;
    boolean same = held != null && held.keys().toString().equals(keys.toString());
    return new Fetched(keys, clock.instant(), same ? held.identity() : new Object());
  }

  private synchronized void done() {
    inFlight = null;
  }

  private JWKSet parse(String body) {
    try {
      return JWKSet.parse(body);
    } catch (ParseException e) {
      throw new IllegalStateException("not a JWKS at " + uri, e);
    }
  }

  private List<JWK> matching(Fetched fetched, String kid) {
    if (Duration.between(fetched.at(), clock.instant()).compareTo(maxAge) >= 0) {
      return List.of(); // unconfirmed for too long: trust none of them
    }
    return kid == null
        ? fetched.keys().getKeys()
        : fetched.keys().getKeys().stream().filter(k -> kid.equals(k.getKeyID())).toList();
  }
}
