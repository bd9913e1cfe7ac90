package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.web.testing.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

class VerifiedTokensTest {
  static final Instant T = Instant.parse("2026-12-03T12:00:00Z");

  final ManualClock clock = new ManualClock(T);
  final AtomicInteger verifications = new AtomicInteger();
  final AtomicReference<Object> keySet = new AtomicReference<>(new Object());

  /** Subjects the validator refuses (as an audience or issuer check would). */
  final java.util.Set<String> refused = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Expiry against the moving clock, as the real validators check it, and refused subjects. */
  final OAuth2TokenValidator<Jwt> expiry =
      jwt ->
          clock.instant().isBefore(jwt.getExpiresAt()) && !refused.contains(jwt.getSubject())
              ? OAuth2TokenValidatorResult.success()
              : OAuth2TokenValidatorResult.failure(
                  new OAuth2Error("invalid_token", "expired or refused", null));

  /**
   * As the real decoder: verifies "good-*" tokens (expiring an hour after T) and runs the
   * validator, refuses everything else; counts calls.
   */
  final ReactiveJwtDecoder signatures =
      token -> {
        verifications.incrementAndGet();
        if (!token.startsWith("good-")) {
          return Mono.error(new BadJwtException("bad signature"));
        }
        Jwt jwt =
            Jwt.withTokenValue(token)
                .header("alg", "RS256")
                .subject(token.substring(0, token.indexOf('.')))
                .issuedAt(T)
                .expiresAt(T.plus(Duration.ofHours(1)))
                .build();
        return expiry.validate(jwt).hasErrors()
            ? Mono.error(new BadJwtException("expired or refused"))
            : Mono.just(jwt);
      };

  VerifiedTokens tokens(int capacity) {
    return new VerifiedTokens(
        signatures, expiry, clock, Duration.ofMinutes(5), capacity, keySet::get);
  }

  @Test
  void the_same_token_is_verified_once_while_the_keys_stay() {
    VerifiedTokens tokens = tokens(100);
    for (int i = 0; i < 5; i++) {
      assertThat(tokens.decode("good-a.p.s").block().getSubject()).isEqualTo("good-a");
    }
    assertThat(verifications).hasValue(1);
  }

  @Test
  void a_refused_token_is_never_remembered() {
    VerifiedTokens tokens = tokens(100);
    for (int i = 0; i < 3; i++) {
      StepVerifier.create(tokens.decode("forged.p.s")).expectError(BadJwtException.class).verify();
    }
    assertThat(verifications).hasValue(3);
    assertThat(tokens.size()).isZero();
  }

  @Test
  void new_keys_mean_every_token_is_verified_again() {
    VerifiedTokens tokens = tokens(100);
    tokens.decode("good-a.p.s").block();
    keySet.set(new Object()); // the JWKS was fetched again (a key may have been withdrawn)
    tokens.decode("good-a.p.s").block();
    assertThat(verifications).hasValue(2);
  }

  @Test
  void an_expired_token_is_refused_though_it_was_verified() {
    VerifiedTokens tokens =
        new VerifiedTokens(signatures, expiry, clock, Duration.ofHours(2), 100, keySet::get);
    tokens.decode("good-a.p.s").block();
    clock.set(T.plus(Duration.ofMinutes(59)));
    tokens.decode("good-a.p.s").block();
    assertThat(verifications).as("still held").hasValue(1);
    clock.set(T.plus(Duration.ofMinutes(61)));
    StepVerifier.create(tokens.decode("good-a.p.s")).expectError(BadJwtException.class).verify();
  }

  @Test
  void every_use_of_a_remembered_token_runs_the_validator() {
    VerifiedTokens tokens = tokens(100);
    tokens.decode("good-a.p.s").block();
    refused.add("good-a");
    StepVerifier.create(tokens.decode("good-a.p.s")).expectError(BadJwtException.class).verify();
    assertThat(tokens.size()).as("forgotten").isZero();
  }

  @Test
  void an_entry_is_held_at_most_keep() {
    VerifiedTokens tokens = tokens(100);
    tokens.decode("good-a.p.s").block();
    clock.set(T.plus(Duration.ofMinutes(3)));
    tokens.decode("good-a.p.s").block();
    assertThat(verifications).as("still held").hasValue(1);
    clock.set(T.plus(Duration.ofMinutes(6)));
    tokens.decode("good-a.p.s").block();
    assertThat(verifications).as("held at most five minutes").hasValue(2);
  }

  @Test
  void known_answers_only_what_decode_would_answer_from_memory() {
    VerifiedTokens tokens = tokens(100);
    assertThat(tokens.known("good-a.p.s").blockOptional()).as("never verified").isEmpty();
    assertThat(tokens.known("forged.p.s").blockOptional()).isEmpty();
    tokens.decode("good-a.p.s").block();
    assertThat(tokens.known("good-a.p.s").block().getSubject()).isEqualTo("good-a");
    refused.add("good-a"); // the validator runs on every use
    assertThat(tokens.known("good-a.p.s").blockOptional()).isEmpty();
    refused.clear();
    keySet.set(new Object()); // new keys: verified again first
    assertThat(tokens.known("good-a.p.s").blockOptional()).isEmpty();
    tokens.decode("good-a.p.s").block();
    clock.set(T.plus(Duration.ofMinutes(6))); // held at most keep
    assertThat(tokens.known("good-a.p.s").blockOptional()).isEmpty();
    keySet.set(null); // no trusted keys
    assertThat(tokens.known("good-a.p.s").blockOptional()).isEmpty();
    assertThat(verifications).as("known never verifies").hasValue(2);
  }

  @Test
  void without_trusted_keys_nothing_remembered_counts() {
    VerifiedTokens tokens = tokens(100);
    tokens.decode("good-a.p.s").block();
    keySet.set(null); // the keys went unconfirmed too long (CachedJwks.current)
    tokens.decode("good-a.p.s").block();
    tokens.decode("good-a.p.s").block();
    assertThat(verifications).hasValue(3);
  }

  /**
   * Base64 decoders skip characters that are not base64url, so "t~" or "t==" verified as t: each
   * spelling of one good token cost a signature check and a place. Refused before either now.
   */
  @Test
  void another_spelling_of_a_good_token_is_refused_without_a_signature_check() {
    VerifiedTokens tokens = tokens(100);
    tokens.decode("good-a.p.s").block();
    for (String spelling :
        java.util.List.of(
            "good-a.p.s~",
            "good-a.p.s==",
            "good-a.p.s+",
            "good-a.p/.s",
            "good-a.p.s.",
            "good-a.ps")) {
      StepVerifier.create(tokens.decode(spelling)).expectError(BadJwtException.class).verify();
    }
    assertThat(verifications).hasValue(1);
    assertThat(tokens.size()).isEqualTo(1);
  }

  /** Full: a quarter goes, not every player's place at once. */
  @Test
  void a_full_cache_keeps_most_of_its_tokens() {
    VerifiedTokens tokens = tokens(100);
    for (int i = 0; i < 101; i++) {
      tokens.decode("good-" + i + ".p.s").block();
    }
    assertThat(tokens.size()).isBetween(70, 100);
  }

  @Test
  void capacity_is_bounded() {
    VerifiedTokens tokens = tokens(10);
    for (int i = 0; i < 25; i++) {
      tokens.decode("good-" + i + ".p.s").block();
    }
    assertThat(tokens.size()).isLessThanOrEqualTo(10);
  }
}
