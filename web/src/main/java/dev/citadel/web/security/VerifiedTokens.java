package dev.citadel.web.security;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import reactor.core.publisher.Mono;

/**
 * Remembers tokens already verified, so a client that sends the same token on every request pays
 * for parsing it, converting its key and checking its RS256 signature once, not per request: 158 µs
 * per decode become 2.2 µs ({@code TokenVerificationBenchmarkTest}, 2026-12-03), in every service
 * that checks tokens against member-service's JWKS (member-service checks its own, uncached). It
 * was the largest single item in a profile of the gateway, but a small part of its whole cost per
 * request (about 5 ms of CPU on this machine, see bench-gateway.sh).
 *
 * <p>The key is the whole token, signature included: only the identical string is answered from
 * memory, and only tokens that verified are remembered. Each use still runs the validator (expiry,
 * not-before, issuer, audience) with the current time. An entry holds only while the key set it was
 * verified against is the one trusted now ({@code keys}, {@link CachedJwks#current}: a new object
 * after every fetch of the JWKS, none once the keys are unconfirmed for too long, and asking starts
 * the fetch when one is due), so a key withdrawn from the JWKS stops verifying after the same
 * refresh as without this cache; and at most {@code keep}, never past the token's expiry. At most
 * {@code capacity} entries, 2-3 KB each (past that, expired ones are dropped, and if none are,
 * everything is: the next requests verify again).
 */
public final class VerifiedTokens implements KnownTokens {
  private record Verified(Jwt jwt, Instant until, Object keys) {}

  private final ReactiveJwtDecoder delegate;
  private final OAuth2TokenValidator<Jwt> validator;
  private final Clock clock;
  private final Duration keep;
  private final int capacity;
  private final java.util.function.Supplier<Object> keys;
  private final Map<String, Verified> verified = new ConcurrentHashMap<>();

  public VerifiedTokens(
      ReactiveJwtDecoder delegate,
      OAuth2TokenValidator<Jwt> validator,
      Clock clock,
      Duration keep,
      int capacity,
      java.util.function.Supplier<Object> keys) {
    this.delegate = delegate;
    this.validator = validator;
    this.clock = clock;
    this.keep = keep;
    this.capacity = capacity;
    this.keys = keys;
  }

  @Override
  public Mono<Jwt> decode(String token) {
    if (!compact(token)) {
      // Base64 decoders skip what is not base64url ('~', '+', '/', '='), so "t~" and "t==" verified
      // as t: each spelling cost a signature check and a place here, and 10,000 of them emptied
      // every player's place. A token we issue is three base64url parts, nothing else.
      return Mono.error(
          new org.springframework.security.oauth2.jwt.BadJwtException(
              "a token is three base64url parts joined by '.'"));
    }
    Instant now = clock.instant();
    Object keySet = keys.get();
    if (keySet == null) {
      return delegate.decode(token); // no trusted keys: nothing remembered counts
    }
    Verified held = verified.get(token);
    if (held != null) {
      if (holds(held, keySet, now)) {
        return Mono.just(held.jwt());
      }
      verified.remove(token, held); // the delegate gives the precise error, or verifies anew
    }
    return delegate.decode(token).doOnNext(jwt -> remember(token, jwt, now, keySet));
  }

  /**
   * What {@link #decode} answers from memory (the key set trusted now, validated with the current
   * time); empty for anything else.
   */
  @Override
  public Mono<Jwt> known(String token) {
    Object keySet = keys.get();
    Verified held = keySet == null ? null : verified.get(token);
    return held != null && holds(held, keySet, clock.instant())
        ? Mono.just(held.jwt())
        : Mono.empty();
  }

  /** Whether a remembered token still counts: within its hold, same key set, valid now. */
  private boolean holds(Verified held, Object keySet, Instant now) {
    return now.isBefore(held.until())
        && held.keys() == keySet
        && !validator.validate(held.jwt()).hasErrors();
  }

  private void remember(String token, Jwt jwt, Instant now, Object keySet) {
    Instant until = now.plus(keep);
    if (jwt.getExpiresAt() != null && jwt.getExpiresAt().isBefore(until)) {
      until = jwt.getExpiresAt();
    }
    if (verified.size() >= capacity) {
      Instant t = clock.instant();
      verified.values().removeIf(v -> !t.isBefore(v.until()));
      // Still full: a quarter goes, not every player's place at once (each then costs a signature
      // check again, all together).
      var it = verified.keySet().iterator();
      while (verified.size() > capacity * 3 / 4 && it.hasNext()) {
        it.next();
        it.remove();
      }
    }
    verified.put(token, new Verified(jwt, until, keySet));
  }

  /** A JWS in compact form: three parts of base64url without padding, the signature not empty. */
  static boolean compact(String token) {
    int dots = 0;
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c == '.') {
        if (++dots > 2) {
          return false;
        }
      } else if (!((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_')) {
        return false;
      }
    }
    return dots == 2 && !token.endsWith(".") && !token.startsWith(".");
  }

  /** How many verified tokens are held (for tests and metrics). */
  public int size() {
    return verified.size();
  }
}
