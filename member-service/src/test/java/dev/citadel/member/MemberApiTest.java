package dev.citadel.member;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.nimbusds.jose.jwk.JWKSet;
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
import reactor.core.Disposable;
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
  }

  @Autowired WebTestClient web;
  @Autowired DatabaseClient db;

  static String nick() {
    return "n" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  WebTestClient.ResponseSpec post(String path, String json) {
    return web.post().uri(path).contentType(MediaType.APPLICATION_JSON).bodyValue(json).exchange();
  }

  String signUp(String nickname, String password) {
    return post(
            "/api/members", "{\"nickname\":\"" + nickname + "\",\"password\":\"" + password + "\"}")
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
                      .exchange()
                      .expectBody()
                      .jsonPath("$.status")
                      .isEqualTo("LOBBY"));
    }
    problem(
        web.get().uri("/internal/members/{id}/presence", "nobody").exchange(), 404, "no account");
    web.get()
        .uri("/api/members/me")
        .header("X-Player-Id", playerId)
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.playerId")
        .isEqualTo(playerId);
    problem(web.get().uri("/api/members/me").exchange(), 401, "not logged in");
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
