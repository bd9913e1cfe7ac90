package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.citadel.web.testing.ManualClock;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

class CachedJwksTest {
  static final Duration REFRESH = Duration.ofMinutes(5);
  static final Duration MIN = Duration.ofSeconds(10);
  static final Duration MAX_AGE = Duration.ofHours(1);

  final ManualClock clock = new ManualClock(Instant.parse("2026-12-02T12:00:00Z"));
  final AtomicReference<JWKSet> served = new AtomicReference<>();
  final AtomicInteger fetches = new AtomicInteger();
  final AtomicReference<Boolean> down = new AtomicReference<>(false);
  final CachedJwks jwks =
      new CachedJwks(
          uri -> {
            fetches.incrementAndGet();
            return down.get()
                ? Mono.error(new IllegalStateException("member-service is down"))
                : Mono.just(served.get().toPublicJWKSet().toString());
          },
          URI.create("http://member/.well-known/jwks.json"),
          REFRESH,
          MIN,
          MAX_AGE,
          clock);

  static RSAKey key(String kid) throws Exception {
    return new RSAKeyGenerator(2048).keyID(kid).generate();
  }

  List<String> keysFor(String kid) {
    SignedJWT jwt =
        new SignedJWT(
            new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(kid).build(),
            new JWTClaimsSet.Builder().build());
    return jwks.apply(jwt).map(JWK::getKeyID).collectList().block();
  }

  @Test
  void keys_are_fetched_once_and_again_only_when_old_or_unknown() throws Exception {
    served.set(new JWKSet(key("k1")));
    assertThat(keysFor("k1")).containsExactly("k1");
    assertThat(keysFor("k1")).containsExactly("k1");
    assertThat(fetches).hasValue(1);

    // A rotation: k2 appears; its first token makes us fetch (not before 10 s after the last).
    served.set(new JWKSet(List.of(key("k1"), key("k2"))));
    assertThat(keysFor("k2")).as("too soon after the last fetch").isEmpty();
    clock.advance(MIN);
    assertThat(keysFor("k2")).containsExactly("k2");
    assertThat(fetches).hasValue(2);
    // Made-up key ids cost at most one fetch every 10 s.
    for (int i = 0; i < 50; i++) {
      keysFor("made-up-" + i);
    }
    assertThat(fetches).hasValue(2);
  }

  @Test
  void a_key_dropped_from_the_jwks_stops_verifying_after_the_next_refresh() throws Exception {
    served.set(new JWKSet(List.of(key("old"), key("new"))));
    assertThat(keysFor("old")).containsExactly("old");
    served.set(new JWKSet(key("new")));
    clock.advance(REFRESH);
    assertThat(keysFor("old")).as("answered at once with what is held").containsExactly("old");
    assertThat(fetches).as("refreshed in the background").hasValue(2);
    assertThat(keysFor("old")).isEmpty();
    assertThat(keysFor("new")).containsExactly("new");
  }

  @Test
  void while_member_service_is_down_the_held_keys_serve_until_their_maximum_age() throws Exception {
    served.set(new JWKSet(key("k1")));
    keysFor("k1");
    down.set(true);
    clock.advance(REFRESH);
    assertThat(keysFor("k1")).containsExactly("k1");
    int afterFailure = fetches.get();
    assertThat(keysFor("k1")).containsExactly("k1");
    assertThat(fetches).as("no new attempt within 10 s of a failure").hasValue(afterFailure);
    clock.advance(MAX_AGE);
    assertThatThrownBy(() -> keysFor("k1"))
        .as("unconfirmed for an hour: no keys to verify with (503), not an invalid token (401)")
        .isInstanceOf(CachedJwks.KeysUnavailable.class);
    down.set(false);
    clock.advance(MIN);
    assertThat(keysFor("k1")).containsExactly("k1");
  }

  @Test
  void with_no_keys_ever_fetched_a_token_is_not_judged_but_the_lookup_fails_as_unavailable() {
    down.set(true);
    assertThatThrownBy(() -> keysFor("k1"))
        .isInstanceOfSatisfying(
            CachedJwks.KeysUnavailable.class,
            e -> assertThat(e.retryAfter()).as("the next fetch, 10 s on").isEqualTo(MIN));
    clock.advance(Duration.ofSeconds(4));
    assertThatThrownBy(() -> keysFor("k1"))
        .as("within 10 s of the failed fetch: no new one, still unavailable")
        .isInstanceOfSatisfying(
            CachedJwks.KeysUnavailable.class,
            e -> assertThat(e.retryAfter()).isEqualTo(Duration.ofSeconds(6)));
    assertThat(fetches).hasValue(1);
  }

  @Test
  void the_first_fetch_starts_on_creation_and_its_failure_holds_no_later_fetch_back()
      throws Exception {
    served.set(new JWKSet(key("k1")));
    down.set(true);
    jwks.prefetch();
    assertThat(fetches).hasValue(1);

    down.set(false);
    assertThat(keysFor("k1")).as("fetched at once, not 10 s later").containsExactly("k1");
    assertThat(fetches).hasValue(2);
  }

  /**
   * What remembered tokens are checked against: the same object while fetches bring the same keys,
   * a new one when they bring others, a background fetch when due, and nothing at all once the keys
   * are older than their maximum age.
   */
  @Test
  void the_current_key_set_changes_with_each_fetch_and_expires_with_the_keys() throws Exception {
    assertThat(jwks.current()).as("nothing fetched yet").isNull();
    served.set(new JWKSet(key("k1")));
    keysFor("k1");
    Object first = jwks.current();
    assertThat(first).isNotNull();
    assertThat(jwks.current()).isSameAs(first);

    clock.advance(REFRESH);
    jwks.current(); // due: asking fetches again (in the background)
    assertThat(fetches).hasValue(2);
    assertThat(jwks.current()).as("the same keys fetched again: the same set").isSameAs(first);

    served.set(new JWKSet(List.of(key("k1"), key("k2"))));
    clock.advance(REFRESH);
    jwks.current();
    assertThat(fetches).hasValue(3);
    Object second = jwks.current();
    assertThat(second).as("other keys: a new set").isNotNull().isNotSameAs(first);
    served.set(new JWKSet(key("k2")));
    clock.advance(REFRESH);
    jwks.current();
    assertThat(jwks.current()).as("a key withdrawn: a new set").isNotSameAs(second);

    down.set(true);
    clock.advance(MAX_AGE);
    assertThat(jwks.current()).as("unconfirmed for an hour: trusted no more").isNull();
  }
}
