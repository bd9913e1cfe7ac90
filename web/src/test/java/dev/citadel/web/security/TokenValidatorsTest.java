package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;

class TokenValidatorsTest {
  static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
  static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
  final OAuth2TokenValidator<Jwt> gameState = TokenValidators.of("citadel", "game-state", CLOCK);
  final OAuth2TokenValidator<Jwt> gateway = TokenValidators.of("citadel", null, CLOCK);

  static Jwt jwt(JwtClaimsSet claims) {
    return new Jwt(
        "t",
        claims.getIssuedAt(),
        claims.getExpiresAt(),
        Map.of("alg", "RS256"),
        claims.getClaims());
  }

  static Jwt player() {
    return jwt(Tokens.player("citadel", "p1", "alice", NOW, Duration.ofHours(1)));
  }

  static Jwt service(String audience) {
    return jwt(
        Tokens.service(
            "citadel", "game-server", audience, List.of("game.grant"), NOW, Duration.ofMinutes(5)));
  }

  static boolean valid(OAuth2TokenValidator<Jwt> v, Jwt jwt) {
    return !v.validate(jwt).hasErrors();
  }

  @Test
  void a_player_token_is_valid_at_every_service_and_the_gateway() {
    assertThat(valid(gameState, player())).isTrue();
    assertThat(valid(gateway, player())).isTrue();
  }

  @Test
  void a_service_token_is_valid_only_at_its_audience_and_never_at_the_gateway() {
    assertThat(valid(gameState, service("game-state"))).isTrue();
    assertThat(valid(gameState, service("match-service"))).isFalse();
    assertThat(valid(gateway, service("game-state"))).isFalse();
  }

  @Test
  void a_token_without_exp_kind_or_audience_or_from_another_issuer_is_invalid() {
    JwtClaimsSet good = Tokens.player("citadel", "p1", "alice", NOW, Duration.ofHours(1));
    Map<String, Object> noExp = new java.util.HashMap<>(good.getClaims());
    noExp.remove("exp");
    assertThat(valid(gameState, new Jwt("t", NOW, null, Map.of("alg", "RS256"), noExp)))
        .as("no exp")
        .isFalse();
    Map<String, Object> noKind = new java.util.HashMap<>(good.getClaims());
    noKind.remove(Tokens.KIND);
    assertThat(
            valid(
                gameState, new Jwt("t", NOW, good.getExpiresAt(), Map.of("alg", "RS256"), noKind)))
        .as("no kind")
        .isFalse();
    Map<String, Object> noAud = new java.util.HashMap<>(good.getClaims());
    noAud.remove("aud");
    assertThat(
            valid(gameState, new Jwt("t", NOW, good.getExpiresAt(), Map.of("alg", "RS256"), noAud)))
        .as("no aud")
        .isFalse();
    assertThat(valid(gameState, jwt(Tokens.player("other", "p1", "a", NOW, Duration.ofHours(1)))))
        .as("other issuer")
        .isFalse();
  }

  @Test
  void an_expired_token_is_invalid_after_the_clock_skew() {
    Jwt expired =
        jwt(Tokens.player("citadel", "p1", "a", NOW.minusSeconds(3600 + 31), Duration.ofHours(1)));
    Jwt justExpired =
        jwt(Tokens.player("citadel", "p1", "a", NOW.minusSeconds(3600 + 10), Duration.ofHours(1)));
    assertThat(valid(gameState, expired)).isFalse();
    assertThat(valid(gameState, justExpired)).as("within 30 s of skew").isTrue();
  }

  @Test
  void callers_get_a_role_and_services_their_scopes() {
    assertThat(Callers.authorities(player()))
        .extracting(Object::toString)
        .containsExactly(Callers.PLAYER_ROLE);
    assertThat(Callers.authorities(service("game-state")))
        .extracting(Object::toString)
        .containsExactly(Callers.SERVICE_ROLE, "SCOPE_game.grant");
  }
}
