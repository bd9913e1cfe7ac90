package dev.citadel.member;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import dev.citadel.protocol.member.v1.AccountRegistered;
import dev.citadel.protocol.member.v1.PresenceChanged;
import dev.citadel.protocol.member.v1.PresenceStatus;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.MediaType;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

@CitadelInfra
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
class MemberApiTest {
  static final String EVENTS = "member.events.api-test";
  static final String PRESENCE = "player.presence.api-test";

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    PostgresEndpoint pg = SharedInfra.postgresDatabase("member_api_test");
    registry.add("citadel.postgres.url", pg::url);
    registry.add("citadel.postgres.user", pg::username);
    registry.add("citadel.postgres.password", pg::password);
    registry.add("citadel.kafka.bootstrap-servers", () -> SharedInfra.kafka().bootstrapServers());
    registry.add("citadel.members.outbox-topic", () -> EVENTS);
    registry.add("citadel.members.presence-topic", () -> PRESENCE);
    registry.add("citadel.members.bcrypt-strength", () -> 4); // fast tests; 10 in production
    registry.add("spring.data.redis.url", () -> SharedInfra.redis().url());
    registry.add("citadel.jwt.signing-key", () -> TestIdentity.pem(SIGNING));
    registry.add("citadel.jwt.next-key", () -> TestIdentity.pem(NEXT));
    registry.add("citadel.identity.clients.match-service.secret", () -> MATCH_SECRET);
    registry.add("citadel.identity.clients.game-server.secret", () -> "game-server-secret");
    registry.add("citadel.identity.clients.gateway.secret", () -> GATEWAY_SECRET);
    // A lock that outlasts any test's requests: nothing here depends on timing.
    registry.add("citadel.login.backoff", () -> "1m");
  }

  static final RSAKey SIGNING = TestIdentity.generateKey();
  static final RSAKey NEXT = TestIdentity.generateKey();
  static final String MATCH_SECRET = "match-secret-for-tests";
  static final String GATEWAY_SECRET = "gateway-secret-for-tests";

  @Autowired WebTestClient web;
  @org.springframework.boot.test.web.server.LocalServerPort int port;
  @Autowired DatabaseClient db;

  static String nick() {
    return "n" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  WebTestClient.ResponseSpec post(String path, String json) {
    return web.post().uri(path).contentType(MediaType.APPLICATION_JSON).bodyValue(json).exchange();
  }

  String signUp(String nickname, String password) {
    return createdPlayer(
        post(
            "/api/members",
            "{\"nickname\":\"" + nickname + "\",\"password\":\"" + password + "\"}"));
  }

  /** The new account's player id, from a sign-up's 201. */
  static String createdPlayer(WebTestClient.ResponseSpec signedUp) {
    return signedUp
        .expectStatus()
        .isCreated()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody()
        .get("playerId")
        .toString();
  }

  void problem(WebTestClient.ResponseSpec r, int status, String part) {
    r.expectStatus()
        .isEqualTo(status)
        .expectBody()
        .jsonPath("$.detail")
        .value(String.class, d -> assertThat(d).contains(part));
  }

  @Autowired org.springframework.boot.reactor.netty.NettyReactiveWebServerFactory server;

  /** The server this service starts reads kept-alive connections again after each response. */
  @Test
  void the_server_carries_the_keep_alive_reads_fix() {
    assertThat(server.getServerCustomizers())
        .hasAtLeastOneElementOfType(
            dev.citadel.web.netty.NettyAutoConfiguration.KeepAliveReadsCustomizer.class);
  }

  @Test
  void sign_up_then_log_in_returns_an_rs256_token_others_verify_with_the_jwks() {
    String nickname = nick();
    String playerId = signUp(nickname, "correct horse");

    Map<?, ?> login =
        post(
                "/api/members/login",
                "{\"nickname\":\"" + nickname.toUpperCase() + "\",\"password\":\"correct horse\"}")
            .expectStatus()
            .isOk()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    assertThat(login.get("playerId")).isEqualTo(playerId);
    assertThat(login.get("tokenType")).isEqualTo("Bearer");

    String jwks =
        web.get()
            .uri("/.well-known/jwks.json")
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(String.class)
            .returnResult()
            .getResponseBody();
    assertThat(jwks).doesNotContain("\"d\"").contains("\"kty\":\"RSA\"");
    Jwt jwt =
        NimbusReactiveJwtDecoder.withJwkSource(
                token -> {
                  try {
                    return reactor.core.publisher.Flux.fromIterable(JWKSet.parse(jwks).getKeys());
                  } catch (java.text.ParseException e) {
                    return reactor.core.publisher.Flux.error(e);
                  }
                })
            .build()
            .decode(login.get("token").toString())
            .block();
    assertThat(jwt.getSubject()).isEqualTo(playerId);
    assertThat(jwt.getClaimAsString("nickname")).isEqualTo(nickname);
    assertThat(jwt.getHeaders()).containsEntry("alg", "RS256");
  }

  @Test
  void wrong_credentials_and_bad_input_are_refused_clearly() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    problem(
        post(
            "/api/members/login",
            "{\"nickname\":\"" + nickname + "\",\"password\":\"wrong pass\"}"),
        401,
        "wrong nickname or password");
    problem(
        post("/api/members/login", "{\"nickname\":\"nobody_here\",\"password\":\"whatever1\"}"),
        401,
        "wrong nickname or password");
    problem(
        post("/api/members", "{\"nickname\":\"x\",\"password\":\"long enough\"}"),
        400,
        "nickname must be 3-16");
    problem(
        post("/api/members", "{\"nickname\":\"" + nick() + "\",\"password\":\"short\"}"),
        400,
        "at least 8");
    problem(post("/api/members", "{\"nickname\": "), 400, "");
  }

  @Test
  void a_nickname_taken_in_another_letter_case_is_a_conflict_and_leaves_no_trace() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    long accountsBefore = count("SELECT count(*) AS n FROM accounts");
    long streamsBefore =
        count("SELECT count(*) AS n FROM streams WHERE aggregate_type = 'account'");

    problem(
        post(
            "/api/members",
            "{\"nickname\":\"" + nickname.toUpperCase() + "\",\"password\":\"other pass\"}"),
        409,
        "is taken");

    assertThat(count("SELECT count(*) AS n FROM accounts")).isEqualTo(accountsBefore);
    assertThat(count("SELECT count(*) AS n FROM streams WHERE aggregate_type = 'account'"))
        .as("no AccountRegistered event without an account")
        .isEqualTo(streamsBefore);
  }

  WebTestClient.ResponseSpec signUpWithKey(String key, String nickname, String password) {
    return web.post()
        .uri("/api/members")
        .contentType(MediaType.APPLICATION_JSON)
        .header("Idempotency-Key", key)
        .bodyValue("{\"nickname\":\"" + nickname + "\",\"password\":\"" + password + "\"}")
        .exchange();
  }

  /**
   * A sign-up whose reply was lost is sent again: with its Idempotency-Key it answers with the
   * account the first try made (before, the caller's own new account was "taken", 409, and the
   * client could not tell it from someone else's).
   */
  @Test
  void a_sign_up_sent_again_with_its_key_answers_with_the_same_account_made_once() {
    String nickname = nick();
    String key = "sign-up-" + UUID.randomUUID();
    long accountsBefore = count("SELECT count(*) AS n FROM accounts");
    // Five at once (a client's retries racing its first try), then once more after.
    List<String> ids =
        Flux.range(0, 6)
            .parallel(5)
            .runOn(reactor.core.scheduler.Schedulers.boundedElastic())
            .map(i -> createdPlayer(signUpWithKey(key, nickname, "correct horse")))
            .sequential()
            .collectList()
            .block(Duration.ofSeconds(60));
    String again = createdPlayer(signUpWithKey(key, nickname, "correct horse"));
    assertThat(ids).hasSize(6).containsOnly(again);
    assertThat(count("SELECT count(*) AS n FROM accounts")).isEqualTo(accountsBefore + 1);
    assertThat(
            count(
                "SELECT count(*) AS n FROM events WHERE aggregate_type = 'account' AND aggregate_id = '"
                    + again
                    + "'"))
        .isEqualTo(1);

    // The key with another sign-up: a clear conflict, nothing written.
    problem(signUpWithKey(key, nick(), "correct horse"), 409, "another sign-up");
    problem(signUpWithKey(key, nickname, "other horse"), 409, "another sign-up");
    // Without a key a repeat is a new sign-up, and the nickname is taken.
    problem(
        post("/api/members", "{\"nickname\":\"" + nickname + "\",\"password\":\"correct horse\"}"),
        409,
        "is taken");
    // Another key, the same nickname: taken.
    problem(signUpWithKey("other-" + key, nickname, "correct horse"), 409, "is taken");
    problem(signUpWithKey("has space", nick(), "correct horse"), 400, "Idempotency-Key");
    assertThat(count("SELECT count(*) AS n FROM accounts")).isEqualTo(accountsBefore + 1);
  }

  @Test
  void every_account_has_its_registered_event_and_the_outbox_publishes_it() {
    List<AccountRegistered> published = new CopyOnWriteArrayList<>();
    KafkaSettings settings =
        KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "reader");
    String nickname = nick();
    try (var dlq = new ReactorKafkaPublisher(settings)) {
      Disposable consumer =
          new ReactorKafkaConsumer(settings, dlq)
              .start(
                  "member-test-" + nickname,
                  List.of(EVENTS),
                  m ->
                      Mono.fromCallable(
                              () ->
                                  AccountRegistered.parseFrom(
                                      EventEnvelope.parseFrom(m.value()).getPayload()))
                          .doOnNext(published::add)
                          .then());
      try {
        String playerId = signUp(nickname, "correct horse");
        await()
            .atMost(Duration.ofSeconds(30))
            .until(() -> published.stream().anyMatch(a -> a.getPlayerId().equals(playerId)));
        assertThat(published)
            .filteredOn(a -> a.getPlayerId().equals(playerId))
            .singleElement()
            .extracting(AccountRegistered::getNickname)
            .isEqualTo(nickname);
      } finally {
        consumer.dispose();
      }
    }
    assertThat(count("SELECT count(*) AS n FROM accounts"))
        .isEqualTo(count("SELECT count(*) AS n FROM streams WHERE aggregate_type = 'account'"));
  }

  @Test
  void presence_follows_the_topic_in_order_and_ignores_redelivery() {
    String playerId = signUp(nick(), "correct horse");
    web.get()
        .uri("/internal/members/{id}/presence", playerId)
        .headers(h -> h.setBearerAuth(presenceToken()))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.status")
        .isEqualTo("LOBBY")
        .jsonPath("$.canQueue")
        .isEqualTo(true);

    KafkaSettings settings =
        KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "presence-writer");
    try (var publisher = new ReactorKafkaPublisher(settings)) {
      for (var change :
          List.of(
              presence(playerId, PresenceStatus.QUEUED, "", 1),
              presence(playerId, PresenceStatus.IN_GAME, "m-1", 2),
              presence(playerId, PresenceStatus.QUEUED, "", 1))) { // a redelivered old message
        publisher.publish(new OutgoingMessage(PRESENCE, playerId, change.toByteArray())).block();
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  web.get()
                      .uri("/internal/members/{id}/presence", playerId)
                      .headers(h -> h.setBearerAuth(presenceToken()))
                      .exchange()
                      .expectBody()
                      .jsonPath("$.status")
                      .isEqualTo("IN_GAME")
                      .jsonPath("$.matchId")
                      .isEqualTo("m-1")
                      .jsonPath("$.canQueue")
                      .isEqualTo(false));
      publisher
          .publish(
              new OutgoingMessage(
                  PRESENCE,
                  playerId,
                  presence(playerId, PresenceStatus.LOBBY, "", 3).toByteArray()))
          .block();
      await()
          .atMost(Duration.ofSeconds(30))
          .untilAsserted(
              () ->
                  web.get()
                      .uri("/internal/members/{id}/presence", playerId)
                      .headers(h -> h.setBearerAuth(presenceToken()))
                      .exchange()
                      .expectBody()
                      .jsonPath("$.status")
                      .isEqualTo("LOBBY"));
    }
    problem(
        web.get()
            .uri("/internal/members/{id}/presence", "nobody")
            .headers(h -> h.setBearerAuth(presenceToken()))
            .exchange(),
        404,
        "no account");
  }

  // --- identity: tokens, service clients, keys

  /** A service token for match-service's presence check, from the real token endpoint. */
  String presenceToken() {
    return tokenResponse("match-service", MATCH_SECRET, "member-service", null)
        .expectStatus()
        .isOk()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody()
        .get("access_token")
        .toString();
  }

  WebTestClient.ResponseSpec tokenResponse(
      String client, String secret, String audience, String scope) {
    org.springframework.util.LinkedMultiValueMap<String, String> form =
        new org.springframework.util.LinkedMultiValueMap<>();
    form.add("grant_type", "client_credentials");
    if (audience != null) {
      form.add("audience", audience);
    }
    if (scope != null) {
      form.add("scope", scope);
    }
    return web.post()
        .uri("/oauth2/token")
        .headers(h -> h.setBasicAuth(client, secret))
        .contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .body(org.springframework.web.reactive.function.BodyInserters.fromFormData(form))
        .exchange();
  }

  String logIn(String nickname, String password) {
    return post(
            "/api/members/login",
            "{\"nickname\":\"" + nickname + "\",\"password\":\"" + password + "\"}")
        .expectStatus()
        .isOk()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody()
        .get("token")
        .toString();
  }

  Jwt verify(String token) {
    return org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder.withJwkSource(
            t ->
                reactor.core.publisher.Flux.fromIterable(
                    new JWKSet(List.of(SIGNING.toPublicJWK())).getKeys()))
        .build()
        .decode(token)
        .block();
  }

  @Test
  void a_service_token_names_its_one_audience_and_the_granted_scopes() {
    Map<?, ?> body =
        tokenResponse("game-server", "game-server-secret", "game-state", null)
            .expectStatus()
            .isOk()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    assertThat(body.get("token_type")).isEqualTo("Bearer");
    assertThat(body.get("expires_in")).isEqualTo(300);
    Jwt jwt = verify(body.get("access_token").toString());
    assertThat(jwt.getAudience()).containsExactly("game-state");
    assertThat(jwt.getSubject()).isEqualTo("game-server");
    assertThat(jwt.getClaimAsString("kind")).isEqualTo("service");
    assertThat(jwt.getClaimAsString("scope")).isEqualTo("game.grant match.read match.results");
    assertThat(jwt.getExpiresAt()).isNotNull();
    assertThat(jwt.getHeaders()).containsEntry("kid", SIGNING.getKeyID());

    Map<?, ?> narrowed =
        tokenResponse("game-server", "game-server-secret", "game-state", "match.read")
            .expectStatus()
            .isOk()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    assertThat(narrowed.get("scope")).isEqualTo("match.read");
  }

  @Test
  void a_token_request_that_is_not_granted_is_refused_with_an_oauth_error() {
    tokenResponse("game-server", "wrong", "game-state", null)
        .expectStatus()
        .isUnauthorized()
        .expectBody()
        .jsonPath("$.error")
        .isEqualTo("invalid_client");
    tokenResponse("nobody", "whatever", "game-state", null)
        .expectStatus()
        .isUnauthorized()
        .expectBody()
        .jsonPath("$.error")
        .isEqualTo("invalid_client");
    tokenResponse("game-server", "game-server-secret", "member-service", null)
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.error")
        .isEqualTo("invalid_target");
    tokenResponse("game-server", "game-server-secret", "game-state", "tx.participate")
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.error")
        .isEqualTo("invalid_scope");
    // Clients without a secret in the configuration (loadtest, game-state here) are disabled.
    tokenResponse("loadtest", "", "match-service", null).expectStatus().isUnauthorized();
  }

  @Test
  void player_tokens_carry_kind_audience_and_expiry_and_the_jwks_publishes_the_next_key() {
    String nickname = nick();
    String playerId = signUp(nickname, "correct horse");
    Jwt jwt = verify(logIn(nickname, "correct horse"));
    assertThat(jwt.getSubject()).isEqualTo(playerId);
    assertThat(jwt.getAudience()).containsExactly("citadel");
    assertThat(jwt.getClaimAsString("kind")).isEqualTo("player");
    assertThat(jwt.getExpiresAt()).isAfter(jwt.getIssuedAt());

    String jwks =
        web.get()
            .uri("/.well-known/jwks.json")
            .exchange()
            .expectBody(String.class)
            .returnResult()
            .getResponseBody();
    assertThat(jwks).contains(SIGNING.getKeyID()).contains(NEXT.getKeyID()).doesNotContain("\"d\"");
  }

  @Test
  void me_and_internal_routes_need_the_right_token_never_a_header() {
    String nickname = nick();
    String playerId = signUp(nickname, "correct horse");
    String token = logIn(nickname, "correct horse");
    web.get()
        .uri("/api/members/me")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.playerId")
        .isEqualTo(playerId);
    web.get()
        .uri("/api/members/me")
        .header("X-Player-Id", playerId)
        .exchange()
        .expectStatus()
        .isUnauthorized();
    // A player token on an internal route: authenticated, not allowed.
    web.get()
        .uri("/internal/members/{id}/presence", playerId)
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .expectStatus()
        .isForbidden();
    web.get()
        .uri("/internal/members/{id}/presence", playerId)
        .exchange()
        .expectStatus()
        .isUnauthorized();
    // A service token with another scope.
    String gameServer =
        tokenResponse("game-server", "game-server-secret", "game-state", null)
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody()
            .get("access_token")
            .toString();
    web.get()
        .uri("/internal/members/{id}/presence", playerId)
        .headers(h -> h.setBearerAuth(gameServer))
        .exchange()
        .expectStatus()
        .isUnauthorized(); // a token for game-state is not a token for member-service
  }

  @Test
  void log_in_folds_case_exactly_as_sign_up_does() {
    String base = "ILIKE" + UUID.randomUUID().toString().substring(0, 6);
    signUp(base, "correct horse");
    logIn(base.toLowerCase(), "correct horse");
    // Dotted capital I lower-cases to "i" + a combining dot in Unicode, and to "i" in some
    // database collations: it must match nothing, as it cannot sign up either.
    String dotted = "\u0130" + base.substring(1);
    problem(
        post(
            "/api/members/login",
            "{\"nickname\":\"" + dotted + "\",\"password\":\"correct horse\"}"),
        401,
        "wrong nickname or password");
    problem(
        post("/api/members", "{\"nickname\":\"" + dotted + "\",\"password\":\"correct horse\"}"),
        400,
        "nickname must be");
  }

  /**
   * A keyed sign-up's repeat checks the password of the account its key made (201 or 409): guesses
   * that way count as log-in failures. They were never counted: whoever knew a key could guess the
   * password at the gateway's rate.
   */
  @Test
  void password_guesses_by_keyed_sign_up_are_throttled_as_log_ins_are() {
    String nickname = nick();
    String key = "guess-" + UUID.randomUUID();
    createdPlayer(signUpWithKey(key, nickname, "correct horse"));
    for (int i = 0; i < 5; i++) {
      problem(signUpWithKey(key, nickname, "wrong guess " + i), 409, "another sign-up");
    }
    signUpWithKey(key, nickname, "correct horse")
        .expectStatus()
        .isEqualTo(429)
        .expectHeader()
        .exists("Retry-After");
    login(nickname, "correct horse", null, null).expectStatus().isEqualTo(429);
  }

  @Test
  void a_nickname_is_throttled_after_five_failures_whatever_address_the_requests_claim() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    for (int i = 0; i < 5; i++) {
      login(nickname, "wrong pass", "198.51.100." + i, null).expectStatus().isUnauthorized();
    }
    // Locked now, even with the right password: an X-Forwarded-For without the gateway's word
    // is not believed, so every attempt counts under this test's own address.
    login(nickname, "correct horse", "203.0.113.77", null)
        .expectStatus()
        .isEqualTo(429)
        .expectHeader()
        .value("Retry-After", v -> assertThat(Long.parseLong(v)).isBetween(1L, 60L));
  }

  WebTestClient.ResponseSpec login(
      String nickname, String password, String forwardedFor, String bearer) {
    return web.post()
        .uri("/api/members/login")
        .headers(
            h -> {
              if (forwardedFor != null) {
                h.set("X-Forwarded-For", forwardedFor);
              }
              if (bearer != null) {
                h.setBearerAuth(bearer);
              }
            })
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"nickname\":\"" + nickname + "\",\"password\":\"" + password + "\"}")
        .exchange();
  }

  @Test
  void the_address_the_gateway_vouches_for_is_the_one_log_ins_count_under() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    String gateway =
        tokenResponse("gateway", GATEWAY_SECRET, "member-service", null)
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody()
            .get("access_token")
            .toString();
    for (int i = 0; i < 5; i++) {
      login(nickname, "wrong pass", "198.51.100.7", gateway).expectStatus().isUnauthorized();
    }
    // Locked for that nickname from that address ...
    login(nickname, "correct horse", "198.51.100.7", gateway).expectStatus().isEqualTo(429);
    // ... not from another one the gateway vouches for (the player is not locked out by a
    // stranger's guesses) ...
    login(nickname, "correct horse", "203.0.113.8", gateway).expectStatus().isOk();
    // ... and a header without the gateway's token is the socket's address, not the one claimed.
    for (int i = 0; i < 5; i++) {
      login(nickname, "wrong pass", "192.0.2." + i, null).expectStatus().isUnauthorized();
    }
    login(nickname, "correct horse", "192.0.2.200", null).expectStatus().isEqualTo(429);
  }

  String gatewayToken() {
    return tokenResponse("gateway", GATEWAY_SECRET, "member-service", null)
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody()
        .get("access_token")
        .toString();
  }

  /** An address no other test uses: the per-address counts of one test never reach another. */
  static String freshAddress(String prefix) {
    java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
    return prefix + r.nextInt(256) + "." + r.nextInt(256) + "." + r.nextInt(1, 255);
  }

  /**
   * Strangers guessing one account from everywhere lock it for strangers, but not for its owner at
   * an address the account logged in from before; and the owner logging in does not hand them a new
   * budget.
   */
  @Test
  void guesses_from_everywhere_do_not_lock_the_owner_out_at_a_known_address() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    String gateway = gatewayToken();
    String home = freshAddress("10.");
    login(nickname, "correct horse", home, gateway).expectStatus().isOk();
    for (int i = 0; i < 50; i++) {
      login(nickname, "wrong pass", freshAddress("100."), gateway).expectStatus().isUnauthorized();
    }
    login(nickname, "correct horse", freshAddress("100."), gateway).expectStatus().isEqualTo(429);
    login(nickname, "correct horse", home, gateway).expectStatus().isOk();
    // Still locked for everyone else after the owner's success.
    login(nickname, "correct horse", freshAddress("100."), gateway).expectStatus().isEqualTo(429);
  }

  /**
   * The addresses an account is known to log in from follow it to its new nickname: left under the
   * old one, strangers' guesses locked the renamed owner out at home.
   */
  @Test
  void a_renamed_account_keeps_its_known_addresses() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    String gateway = gatewayToken();
    String home = freshAddress("10.");
    login(nickname, "correct horse", home, gateway).expectStatus().isOk();
    String renamed = nick();
    rename(logIn(nickname, "correct horse"), "move-" + renamed, renamed).expectStatus().isOk();
    for (int i = 0; i < 50; i++) {
      login(renamed, "wrong pass", freshAddress("100."), gateway).expectStatus().isUnauthorized();
    }
    login(renamed, "correct horse", freshAddress("100."), gateway).expectStatus().isEqualTo(429);
    login(renamed, "correct horse", home, gateway).expectStatus().isOk();
  }

  @Autowired dev.citadel.member.login.AddressShares shares;
  @Autowired dev.citadel.member.config.MemberProperties properties;

  /**
   * One address's share of bcrypt taken (here held directly: in production, its sign-ups and
   * log-ins waiting for bcrypt): its next sign-up and log-in are 503 at once, no verdict on the
   * password (not counted by the throttle); another address goes on.
   */
  @Test
  void an_address_past_its_share_of_bcrypt_is_refused_at_once_and_nothing_is_counted() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    String gateway = gatewayToken();
    String crowded = freshAddress("172.");
    List<reactor.core.Disposable> held = new java.util.ArrayList<>();
    try {
      int share = properties.login().bcryptPerAddress();
      for (int i = 0; i < share; i++) {
        held.add(shares.within(crowded, Mono.never()).subscribe());
      }
      for (int i = 0; i < 6; i++) {
        login(nickname, "correct horse", crowded, gateway)
            .expectStatus()
            .isEqualTo(503)
            .expectHeader()
            .exists("Retry-After");
      }
      web.post()
          .uri("/api/members")
          .headers(
              h -> {
                h.set("X-Forwarded-For", crowded);
                h.setBearerAuth(gateway);
              })
          .contentType(MediaType.APPLICATION_JSON)
          .bodyValue("{\"nickname\":\"" + nick() + "\",\"password\":\"correct horse\"}")
          .exchange()
          .expectStatus()
          .isEqualTo(503);
      login(nickname, "correct horse", freshAddress("10."), gateway).expectStatus().isOk();
    } finally {
      held.forEach(reactor.core.Disposable::dispose);
    }
    // Six refusals counted no failure: not locked.
    login(nickname, "correct horse", crowded, gateway).expectStatus().isOk();
  }

  /** An IPv6 client counts by its /64: rotating the last 64 bits does not buy new guesses. */
  @Test
  void ipv6_addresses_count_by_their_slash_64() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    String gateway = gatewayToken();
    for (int i = 1; i <= 5; i++) {
      login(nickname, "wrong pass", "2001:db8:77:1::" + Integer.toHexString(i), gateway)
          .expectStatus()
          .isUnauthorized();
    }
    login(nickname, "correct horse", "2001:db8:77:1:ffff::9", gateway)
        .expectStatus()
        .isEqualTo(429);
    login(nickname, "correct horse", "2001:db8:77:2::1", gateway).expectStatus().isOk();
  }

  /**
   * A forwarding token that does not verify is refused with invalid_token (the gateway then fetches
   * a new one) rather than silently counting the log-in under the gateway's address; a valid token
   * without the gateway's scope is simply not believed.
   */
  @Test
  void a_forwarding_token_that_does_not_verify_is_refused_as_invalid_token() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    login(nickname, "correct horse", "198.51.100.9", "not.a.jwt")
        .expectStatus()
        .isUnauthorized()
        .expectHeader()
        .value("WWW-Authenticate", v -> assertThat(v).contains("invalid_token"));
    String player =
        post(
                "/api/members/login",
                "{\"nickname\":\"" + nickname + "\",\"password\":\"correct horse\"}")
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody()
            .get("token")
            .toString();
    login(nickname, "correct horse", "198.51.100.9", player).expectStatus().isOk();
  }

  @Test
  void concurrent_guesses_are_all_counted_before_any_password_is_checked() {
    String nickname = nick();
    signUp(nickname, "correct horse");
    String gateway = gatewayToken();
    String address = freshAddress("10.");
    WebClient client = WebClient.create("http://127.0.0.1:" + port);
    List<Integer> statuses =
        Flux.range(0, 12)
            .flatMap(
                i ->
                    client
                        .post()
                        .uri("/api/members/login")
                        .headers(
                            h -> {
                              h.setBearerAuth(gateway);
                              h.set("X-Forwarded-For", address);
                            })
                        .contentType(MediaType.APPLICATION_JSON)
                        .bodyValue(
                            "{\"nickname\":\"" + nickname + "\",\"password\":\"wrong pass\"}")
                        .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value())),
                12)
            .collectList()
            .block(Duration.ofSeconds(60));
    // Twelve at once: the first five were counted and checked, the other seven refused unchecked.
    assertThat(statuses).filteredOn(s -> s == 401).hasSize(5);
    assertThat(statuses).filteredOn(s -> s == 429).hasSize(7);
  }

  @Test
  void a_rename_is_unique_like_sign_up_and_published_for_game_state() {
    String taken = nick();
    signUp(taken, "correct horse");
    String nickname = nick();
    String playerId = signUp(nickname, "correct horse");
    String token = logIn(nickname, "correct horse");
    web.put()
        .uri("/api/members/me/nickname")
        .headers(h -> h.setBearerAuth(token))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"nickname\":\"" + taken.toUpperCase() + "\"}")
        .exchange()
        .expectStatus()
        .isEqualTo(409);
    String renamed = nick();
    web.put()
        .uri("/api/members/me/nickname")
        .headers(h -> h.setBearerAuth(token))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"nickname\":\"" + renamed + "\"}")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.nickname")
        .isEqualTo(renamed);
    logIn(renamed, "correct horse");
    problem(
        post(
            "/api/members/login",
            "{\"nickname\":\"" + nickname + "\",\"password\":\"correct horse\"}"),
        401,
        "wrong nickname or password");
    assertThat(
            count(
                "SELECT count(*) AS n FROM events WHERE aggregate_id = '"
                    + playerId
                    + "' AND event_type = 'citadel.member.v1.NicknameChanged'"))
        .isEqualTo(1);
  }

  WebTestClient.ResponseSpec rename(String token, String key, String nickname) {
    return web.put()
        .uri("/api/members/me/nickname")
        .headers(
            h -> {
              h.setBearerAuth(token);
              h.set("Idempotency-Key", key);
            })
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"nickname\":\"" + nickname + "\"}")
        .exchange();
  }

  /**
   * A rename's retry with its Idempotency-Key (its reply lost) changes nothing, even after a later
   * rename from another device: it undid that one, and published another change each time.
   */
  @Test
  void a_rename_repeated_with_its_key_changes_nothing_and_undoes_no_later_rename() {
    String nickname = nick();
    String playerId = signUp(nickname, "correct horse");
    String token = logIn(nickname, "correct horse");
    String first = nick();
    String later = nick();
    rename(token, "rename-1", first).expectStatus().isOk();
    rename(token, "rename-2", later).expectStatus().isOk();

    rename(token, "rename-1", first)
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.nickname")
        .isEqualTo(later);
    problem(rename(token, "rename-1", nick()), 409, "another rename");
    problem(rename(token, "has space", nick()), 400, "Idempotency-Key");
    assertThat(
            count(
                "SELECT count(*) AS n FROM events WHERE aggregate_id = '"
                    + playerId
                    + "' AND event_type = 'citadel.member.v1.NicknameChanged'"))
        .isEqualTo(2);
    logIn(later, "correct horse");
  }

  static PresenceChanged presence(
      String playerId, PresenceStatus status, String matchId, long seq) {
    return PresenceChanged.newBuilder()
        .setPlayerId(playerId)
        .setStatus(status)
        .setMatchId(matchId)
        .setSequence(seq)
        .setOccurredAtEpochMs(1_700_000_000_000L + seq)
        .build();
  }

  long count(String sql) {
    return db.sql(sql).map(r -> r.get("n", Long.class)).one().block();
  }
}
