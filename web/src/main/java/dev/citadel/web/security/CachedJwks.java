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
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * member-service's public keys, fetched once and kept for {@code ttl}: a request never waits for
 * the JWKS unless the keys are older than that, or the token names a key id not seen yet (a key
 * rotation: fetched again at once, at most every {@code minRefetch}, so tokens with made-up key ids
 * cannot make us fetch on every request). A key dropped from the JWKS stops verifying within {@code
 * ttl}.
 */
public final class CachedJwks implements Function<SignedJWT, Flux<JWK>> {
  private record Fetched(JWKSet keys, Instant at) {}

  private final WebClient http;
  private final URI uri;
  private final Duration ttl;
  private final Duration minRefetch;
  private final Clock clock;
  private volatile Fetched latest;
  private Mono<Fetched> inFlight; // guarded by this

  public CachedJwks(URI uri, Duration ttl, Duration minRefetch, Clock clock) {
    this.http = WebClient.create();
    this.uri = uri;
    this.ttl = ttl;
    this.minRefetch = minRefetch;
    this.clock = clock;
  }

  @Override
  public Flux<JWK> apply(SignedJWT jwt) {
    String kid = jwt.getHeader().getKeyID();
    return keys(kid).flatMapIterable(fetched -> matching(fetched.keys(), kid));
  }

  private Mono<Fetched> keys(String kid) {
    Fetched known = latest;
    if (known != null && !refreshDue(known, kid)) {
      return Mono.just(known);
    }
    return refresh(known);
  }

  private boolean refreshDue(Fetched fetched, String kid) {
    Duration age = Duration.between(fetched.at(), clock.instant());
    boolean unknown = kid != null && fetched.keys().getKeyByKeyId(kid) == null;
    return age.compareTo(ttl) >= 0 || (unknown && age.compareTo(minRefetch) >= 0);
  }

  /** One fetch at a time, shared; if it fails, the keys we had stay in use. */
  private synchronized Mono<Fetched> refresh(Fetched seen) {
    if (latest != null && latest != seen) {
      return Mono.just(latest); // refreshed meanwhile
    }
    if (inFlight == null) {
      inFlight = fetch().doOnNext(f -> latest = f).doFinally(s -> fetched()).cache();
    }
    Mono<Fetched> fetching = inFlight;
    return seen == null ? fetching : fetching.onErrorResume(e -> Mono.just(seen));
  }

  private synchronized void fetched() {
    inFlight = null;
  }

  private Mono<Fetched> fetch() {
    return http.get()
        .uri(uri)
        .retrieve()
        .bodyToMono(String.class)
        .timeout(Duration.ofSeconds(5))
        .map(
            body -> {
              try {
                return new Fetched(JWKSet.parse(body), clock.instant());
              } catch (ParseException e) {
                throw new IllegalStateException("not a JWKS at " + uri, e);
              }
            });
  }

  private static List<JWK> matching(JWKSet keys, String kid) {
    return kid == null
        ? keys.getKeys()
        : keys.getKeys().stream().filter(k -> kid.equals(k.getKeyID())).toList();
  }
}
