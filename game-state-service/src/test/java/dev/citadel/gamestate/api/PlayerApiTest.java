package dev.citadel.gamestate.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.protocol.eventstore.v1.EventEnvelope;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

@CitadelInfra
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
class PlayerApiTest {
  static final String HEADER = PlayerController.PLAYER_HEADER;
  static final String ACCOUNTS = "member.events.game-state-test";

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    PostgresEndpoint pg = SharedInfra.postgresDatabase("gamestate_api_test");
    registry.add("citadel.postgres.url", pg::url);
    registry.add("citadel.postgres.user", pg::username);
    registry.add("citadel.postgres.password", pg::password);
    registry.add("spring.data.redis.url", () -> SharedInfra.redis().url());
    registry.add("citadel.kafka.bootstrap-servers", () -> SharedInfra.kafka().bootstrapServers());
    registry.add("citadel.game-state.outbox.topic", () -> "game.events.api-test");
    registry.add("citadel.game-state.accounts-topic", () -> ACCOUNTS);
  }

  @Autowired WebTestClient web;

  static String newId() {
    return "p-" + UUID.randomUUID().toString().substring(0, 8);
  }

  WebTestClient.ResponseSpec command(String caller, String id, String name, String json) {
    return web.post()
        .uri("/api/game/players/{id}/commands/{name}", id, name)
        .header(HEADER, caller)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(json)
        .exchange();
  }

  void create(String id, String nickname) {
    command(id, id, "create", "{\"nickname\":\"" + nickname + "\"}").expectStatus().isOk();
  }

  void problem(WebTestClient.ResponseSpec response, int status, String detailPart) {
    response
        .expectStatus()
        .isEqualTo(status)
        .expectHeader()
        .contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
        .expectBody()
        .jsonPath("$.status")
        .isEqualTo(status)
        .jsonPath("$.detail")
        .value(String.class, d -> assertThat(d).contains(detailPart));
  }

  long version(String id) {
    return web.get()
        .uri("/api/game/players/{id}", id)
        .header(HEADER, id)
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(PlayerView.class)
        .returnResult()
        .getResponseBody()
        .version();
  }

  @Test
  void a_player_is_created_changed_and_read_back() {
    String id = newId();
    create(id, "alice");
    command(id, id, "earn-gold", "{\"amount\":100,\"reason\":\"quest\"}")
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.player.gold")
        .isEqualTo(100)
        .jsonPath("$.events[0]")
        .isEqualTo("GoldEarned");
    command(id, id, "gain-experience", "{\"amount\":450}")
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.events")
        .value(
            List.class,
            e -> assertThat(e).containsExactly("ExperienceGained", "LeveledUp", "LeveledUp"));
    command(id, id, "add-item", "{\"itemId\":\"sword\",\"quantity\":2}").expectStatus().isOk();

    web.get()
        .uri("/api/game/players/{id}", id)
        .header(HEADER, id)
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.nickname")
        .isEqualTo("alice")
        .jsonPath("$.level")
        .isEqualTo(3)
        .jsonPath("$.gold")
        .isEqualTo(100)
        .jsonPath("$.inventory.sword")
        .isEqualTo(2)
        .jsonPath("$.version")
        .isEqualTo(6);
  }

  @Test
  void bad_input_gets_a_4xx_json_problem_and_changes_nothing() {
    String id = newId();
    create(id, "bob");
    command(id, id, "earn-gold", "{\"amount\":10}").expectStatus().isOk();
    long before = version(id);

    problem(command(id, id, "teleport", "{}"), 400, "unknown command 'teleport'");
    problem(command(id, id, "earn-gold", "{\"amount\":-5}"), 400, "amount must be between 1");
    problem(
        command(id, id, "earn-gold", "{\"amount\":\"lots\"}"), 400, "'amount' must be an integer");
    problem(command(id, id, "earn-gold", "{}"), 400, "'amount' is required");
    problem(command(id, id, "earn-gold", "{\"amount\": 5,"), 400, "");
    problem(command(id, id, "spend-gold", "{\"amount\":11}"), 409, "only 10 owned");
    problem(
        command(id, id, "remove-item", "{\"itemId\":\"sword\",\"quantity\":1}"),
        409,
        "only 0 owned");
    problem(command(id, id, "create", "{\"nickname\":\"bob\"}"), 409, "already exists");

    assertThat(version(id)).isEqualTo(before);
  }

  @Test
  void unknown_players_are_404_and_identity_is_enforced() {
    String ghost = newId();
    problem(
        web.get().uri("/api/game/players/{id}", ghost).header(HEADER, ghost).exchange(),
        404,
        "no player " + ghost);
    problem(command(ghost, ghost, "earn-gold", "{\"amount\":1}"), 404, "no player");

    String alice = newId();
    String mallory = newId();
    create(alice, "alice");
    problem(web.get().uri("/api/game/players/{id}", alice).exchange(), 401, "missing X-Player-Id");
    problem(
        web.get().uri("/api/game/players/{id}", alice).header(HEADER, mallory).exchange(),
        403,
        "only act on themselves");
    problem(command(mallory, alice, "spend-gold", "{\"amount\":1}"), 403, "only act on themselves");
    problem(
        command("bad id!", "bad id!", "create", "{\"nickname\":\"x\"}"), 400, "player id must be");
  }

  @Test
  void the_leaderboard_ranks_players_by_experience() {
    String low = newId();
    String high = newId();
    create(low, "low");
    create(high, "high");
    command(low, low, "gain-experience", "{\"amount\":100000}").expectStatus().isOk();
    command(high, high, "gain-experience", "{\"amount\":500000}").expectStatus().isOk();

    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(
            () ->
                web.get()
                    .uri("/api/game/leaderboard?limit=2")
                    .exchange()
                    .expectStatus()
                    .isOk()
                    .expectBody()
                    .jsonPath("$[0].playerId")
                    .isEqualTo(high)
                    .jsonPath("$[0].nickname")
                    .isEqualTo("high")
                    .jsonPath("$[0].rank")
                    .isEqualTo(1)
                    .jsonPath("$[1].playerId")
                    .isEqualTo(low));
    problem(web.get().uri("/api/game/leaderboard?limit=0").exchange(), 400, "limit");
  }

  @Test
  void committed_events_reach_kafka_through_the_outbox() {
    String id = newId();
    List<EventEnvelope> seen = new CopyOnWriteArrayList<>();
    KafkaSettings settings =
        KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "api-test-reader");
    try (var dlq = new ReactorKafkaPublisher(settings)) {
      Disposable consumer =
          new ReactorKafkaConsumer(settings, dlq)
              .start(
                  "api-test-" + id,
                  List.of("game.events.api-test"),
                  m -> {
                    try {
                      EventEnvelope e = EventEnvelope.parseFrom(m.value());
                      if (e.getAggregateId().equals(id)) {
                        seen.add(e);
                      }
                      return Mono.empty();
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                      return Mono.error(e);
                    }
                  });
      try {
        create(id, "carol");
        command(id, id, "earn-gold", "{\"amount\":3}").expectStatus().isOk();
        await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() >= 2);
      } finally {
        consumer.dispose();
      }
    }
    assertThat(seen.get(0).getEventType()).isEqualTo("citadel.player.v1.PlayerCreated");
    assertThat(seen.get(0).getSeq()).isEqualTo(1);
    assertThat(seen.get(1).getEventType()).isEqualTo("citadel.player.v1.GoldEarned");
  }

  @Test
  void a_registered_account_becomes_a_player_once_even_if_delivered_twice() {
    String id = newId();
    byte[] envelope =
        EventEnvelope.newBuilder()
            .setAggregateType("account")
            .setAggregateId(id)
            .setSeq(1)
            .setEventType("citadel.member.v1.AccountRegistered")
            .setPayload(
                dev.citadel.protocol.member.v1.AccountRegistered.newBuilder()
                    .setPlayerId(id)
                    .setNickname("newbie")
                    .setRegisteredAtEpochMs(1_767_225_600_000L)
                    .build()
                    .toByteString())
            .build()
            .toByteArray();
    KafkaSettings settings =
        KafkaSettings.defaults(SharedInfra.kafka().bootstrapServers(), "accounts-writer");
    try (var publisher = new ReactorKafkaPublisher(settings)) {
      for (int i = 0; i < 2; i++) { // at-least-once: the same registration twice
        publisher
            .publish(new dev.citadel.messaging.OutgoingMessage(ACCOUNTS, id, envelope))
            .block();
      }
    }
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () ->
                web.get()
                    .uri("/api/game/players/{id}", id)
                    .header(HEADER, id)
                    .exchange()
                    .expectStatus()
                    .isOk()
                    .expectBody()
                    .jsonPath("$.nickname")
                    .isEqualTo("newbie"));
    // The second delivery changed nothing: one PlayerCreated, version 1.
    command(id, id, "earn-gold", "{\"amount\":1}")
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.player.version")
        .isEqualTo(2);
  }

  @Test
  void metrics_are_exposed_for_prometheus() {
    String id = newId();
    create(id, "dan");
    // The scrape is larger than the client's default 256 KB buffer (HTTP latency histograms).
    web.mutate()
        .codecs(c -> c.defaultCodecs().maxInMemorySize(8 * 1024 * 1024))
        .build()
        .get()
        .uri("/actuator/prometheus")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(String.class)
        .value(
            body ->
                assertThat(body)
                    .contains("citadel_commands_total{")
                    .contains("citadel_event_append_seconds")
                    .contains("citadel_aggregates_resident")
                    .contains("citadel_outbox_lag_events"));
  }

  WebTestClient.ResponseSpec gift(String from, String json) {
    return web.post()
        .uri("/api/game/players/{id}/gifts", from)
        .header(HEADER, from)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(json)
        .exchange();
  }

  @Test
  void gifts_move_gold_and_items_and_bad_gifts_change_nothing() {
    String alice = newId();
    String bob = newId();
    create(alice, "alice_g" + alice.substring(2, 6));
    create(bob, "bob_g" + bob.substring(2, 6));
    command(alice, alice, "earn-gold", "{\"amount\":100}").expectStatus().isOk();
    command(alice, alice, "add-item", "{\"itemId\":\"sword\",\"quantity\":2}")
        .expectStatus()
        .isOk();

    gift(alice, "{\"to\":\"" + bob + "\",\"gold\":40}")
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.transactionId")
        .isNotEmpty()
        .jsonPath("$.giftId")
        .isNotEmpty();
    gift(alice, "{\"to\":\"" + bob + "\",\"itemId\":\"sword\"}").expectStatus().isOk();
    long aliceVersion = version(alice);
    long bobVersion = version(bob);

    problem(gift(alice, "{\"to\":\"" + alice + "\",\"gold\":1}"), 400, "to themselves");
    problem(gift(alice, "{\"to\":\"nobody-" + alice + "\",\"gold\":1}"), 404, "no player");
    problem(gift(alice, "{\"to\":\"" + bob + "\",\"gold\":61}"), 409, "only 60 owned");
    problem(
        gift(alice, "{\"to\":\"" + bob + "\",\"itemId\":\"sword\",\"quantity\":2}"),
        409,
        "only 1 owned");
    problem(gift(alice, "{\"to\":\"" + bob + "\",\"gold\":0}"), 400, "amount");
    problem(gift(alice, "{\"gold\":5}"), 400, "'to'");
    problem(gift(alice, "{\"to\":\"" + bob + "\"}"), 400, "either 'gold' or 'itemId'");
    web.post()
        .uri("/api/game/players/{id}/gifts", alice)
        .header(HEADER, bob)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"to\":\"" + bob + "\",\"gold\":1}")
        .exchange()
        .expectStatus()
        .isForbidden();

    // Nothing changed by the refused gifts; the accepted ones moved exactly what they said.
    assertThat(version(alice)).isEqualTo(aliceVersion);
    assertThat(version(bob)).isEqualTo(bobVersion);
    web.get()
        .uri("/api/game/players/{id}", bob)
        .header(HEADER, bob)
        .exchange()
        .expectBody()
        .jsonPath("$.gold")
        .isEqualTo(40)
        .jsonPath("$.inventory.sword")
        .isEqualTo(1);
  }

  WebTestClient.ResponseSpec friends(String caller, String path, String json) {
    return web.post()
        .uri("/api/game/players/{id}/friends" + path, caller)
        .header(HEADER, caller)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(json)
        .exchange();
  }

  @Test
  void friend_requests_change_both_players_together_and_bad_ones_change_nothing() {
    String ann = newId();
    String ben = newId();
    create(ann, "ann_" + ann.substring(2, 6));
    create(ben, "ben_" + ben.substring(2, 6));

    friends(ann, "/requests", "{\"to\":\"" + ben + "\"}").expectStatus().isOk();
    web.get()
        .uri("/api/game/players/{id}", ben)
        .header(HEADER, ben)
        .exchange()
        .expectBody()
        .jsonPath("$.friends.askedBy[0]")
        .isEqualTo(ann);
    problem(friends(ann, "/requests", "{\"to\":\"" + ben + "\"}"), 409, "already asked");
    friends(ben, "/requests/" + ann + "/accept", "{}").expectStatus().isOk();
    web.get()
        .uri("/api/game/players/{id}", ann)
        .header(HEADER, ann)
        .exchange()
        .expectBody()
        .jsonPath("$.friends.friends[0]")
        .isEqualTo(ben)
        .jsonPath("$.friends.requested")
        .isEmpty();
    long annVersion = version(ann);
    long benVersion = version(ben);

    problem(friends(ben, "/requests", "{\"to\":\"" + ann + "\"}"), 409, "already friends");
    problem(friends(ann, "/requests", "{\"to\":\"" + ann + "\"}"), 400, "own friend");
    problem(friends(ann, "/requests", "{\"to\":\"ghost-" + ann + "\"}"), 404, "no player");
    problem(friends(ann, "/requests/" + ben + "/accept", "{}"), 409, "no friend request");
    problem(friends(ann, "/requests", "{}"), 400, "'to'");
    assertThat(version(ann)).isEqualTo(annVersion);
    assertThat(version(ben)).isEqualTo(benVersion);

    web.delete()
        .uri("/api/game/players/{id}/friends/{other}", ann, ben)
        .header(HEADER, ann)
        .exchange()
        .expectStatus()
        .isOk();
    web.get()
        .uri("/api/game/players/{id}", ben)
        .header(HEADER, ben)
        .exchange()
        .expectBody()
        .jsonPath("$.friends.friends")
        .isEmpty();
  }
}
