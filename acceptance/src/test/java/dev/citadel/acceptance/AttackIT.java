package dev.citadel.acceptance;

import static dev.citadel.acceptance.Platform.GAME_STATE_A;
import static dev.citadel.acceptance.Platform.GAME_STATE_B;
import static dev.citadel.acceptance.Platform.GATEWAY;
import static dev.citadel.acceptance.Platform.MATCH;
import static dev.citadel.acceptance.Platform.MEMBER;
import static dev.citadel.acceptance.Platform.get;
import static dev.citadel.acceptance.Platform.grant;
import static dev.citadel.acceptance.Platform.newPlayer;
import static dev.citadel.acceptance.Platform.player;
import static dev.citadel.acceptance.Platform.post;
import static dev.citadel.acceptance.Platform.send;
import static dev.citadel.acceptance.Platform.serviceToken;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.citadel.acceptance.Platform.Player;
import dev.citadel.acceptance.Platform.Response;
import java.net.URI;
import java.net.http.HttpRequest;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The trust boundary tried from outside, as a player and as an attacker would: through the gateway
 * AND straight at every service's port (any pod in a cluster can reach them). Nothing but a
 * verified token says who a caller is; players send intents; internal routes need a service token
 * for that service with the route's scope.
 */
class AttackIT {
  static Player alice;

  @BeforeAll
  static void start() {
    Platform.started();
    alice = newPlayer();
  }

  /** A route every service answers only for a player, with the player this token names. */
  static Map<String, Response> playerRoutes(String token, Map<String, String> headers) {
    Map<String, String[]> routes = new LinkedHashMap<>();
    routes.put("gateway", new String[] {GATEWAY.toString(), "/api/game/players/" + alice.id()});
    routes.put("member-service", new String[] {MEMBER.toString(), "/api/members/me"});
    routes.put("match-service", new String[] {MATCH.toString(), "/api/match/status?queue=ranked"});
    routes.put(
        "game-state-a", new String[] {GAME_STATE_A.toString(), "/api/game/players/" + alice.id()});
    routes.put(
        "game-state-b", new String[] {GAME_STATE_B.toString(), "/api/game/players/" + alice.id()});
    Map<String, Response> answers = new LinkedHashMap<>();
    routes.forEach(
        (name, route) -> {
          HttpRequest.Builder r = Platform.request(URI.create(route[0]), route[1], token);
          headers.forEach(r::header);
          answers.put(name, send(r.GET()));
        });
    return answers;
  }

  static void assertAll(Map<String, Response> answers, int status) {
    answers.forEach(
        (service, r) -> assertThat(r.status()).as("%s answered %s", service, r).isEqualTo(status));
  }

  @Test
  void a_players_own_token_opens_every_service_and_a_header_opens_none() {
    assertAll(playerRoutes(alice.token(), Map.of()), 200);
    // X-Player-Id (or any header) without a token: 401 at every port, the gateway's too.
    assertAll(playerRoutes(null, Map.of("X-Player-Id", alice.id())), 401);
  }

  @Test
  void bad_tokens_are_refused_at_the_gateway_and_at_every_service() throws Exception {
    RSAKey key = Platform.signingKey();
    Instant now = Instant.now();
    Map<String, String> bad = new LinkedHashMap<>();
    bad.put("alg=none", new PlainJWT(claims(now, now.plusSeconds(600)).build()).serialize());
    RSAKey stranger = new com.nimbusds.jose.jwk.gen.RSAKeyGenerator(2048).generate();
    bad.put(
        "another key, the platform's key id",
        sign(
            claims(now, now.plusSeconds(600)).build(),
            JWSAlgorithm.RS256,
            new RSASSASigner(stranger),
            key.getKeyID()));
    bad.put(
        "another key, no key id",
        sign(
            claims(now, now.plusSeconds(600)).build(),
            JWSAlgorithm.RS256,
            new RSASSASigner(stranger),
            null));
    bad.put(
        "HS256 with the public key",
        sign(
            claims(now, now.plusSeconds(600)).build(),
            JWSAlgorithm.HS256,
            new MACSigner(
                MessageDigest.getInstance("SHA-256").digest(key.toPublicKey().getEncoded())),
            key.getKeyID()));
    bad.put(
        "no exp",
        sign(claims(now, null).build(), JWSAlgorithm.RS256, new RSASSASigner(key), key.getKeyID()));
    bad.put(
        "wrong aud",
        sign(
            claims(now, now.plusSeconds(600)).audience("game-state").build(),
            JWSAlgorithm.RS256,
            new RSASSASigner(key),
            key.getKeyID()));
    bad.put(
        "expired",
        sign(
            claims(now.minusSeconds(7200), now.minusSeconds(3600)).build(),
            JWSAlgorithm.RS256,
            new RSASSASigner(key),
            key.getKeyID()));
    // The control: the same claims, properly signed, are accepted everywhere.
    String good =
        sign(
            claims(now, now.plusSeconds(600)).build(),
            JWSAlgorithm.RS256,
            new RSASSASigner(key),
            key.getKeyID());
    assertAll(playerRoutes(good, Map.of()), 200);
    bad.forEach(
        (what, token) ->
            playerRoutes(token, Map.of())
                .forEach(
                    (service, r) -> {
                      assertThat(r.status()).as("%s at %s: %s", what, service, r).isEqualTo(401);
                      assertThat(r.body())
                          .as("no decoder internals in the answer")
                          .doesNotContainIgnoringCase("nimbus")
                          .doesNotContainIgnoringCase("exception")
                          .doesNotContain("JWT");
                    }));
  }

  static JWTClaimsSet.Builder claims(Instant issued, Instant expires) {
    JWTClaimsSet.Builder b =
        new JWTClaimsSet.Builder()
            .issuer("citadel")
            .subject(alice.id())
            .audience("citadel")
            .claim("kind", "player")
            .claim("nickname", alice.nickname())
            .issueTime(Date.from(issued));
    return expires == null ? b : b.expirationTime(Date.from(expires));
  }

  static String sign(
      JWTClaimsSet claims, JWSAlgorithm alg, com.nimbusds.jose.JWSSigner signer, String kid)
      throws Exception {
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), claims);
    jwt.sign(signer);
    return jwt.serialize();
  }

  @Test
  void a_player_cannot_grant_themselves_anything_anywhere() {
    long version = player(alice).get("version").asLong();
    for (String command : List.of("earn-gold", "gain-experience", "add-item")) {
      String body = "{\"amount\":1000000,\"itemId\":\"sword\",\"quantity\":100}";
      for (URI at : List.of(GATEWAY, GAME_STATE_A, GAME_STATE_B)) {
        Response r =
            post(
                at,
                "/api/game/players/" + alice.id() + "/commands/" + command,
                alice.token(),
                body);
        assertThat(r.status()).as("%s at %s: %s", command, at, r).isEqualTo(404);
      }
    }
    String grant = "{\"rewardId\":\"self-service\",\"gold\":1000000}";
    assertThat(
            post(GATEWAY, "/internal/players/" + alice.id() + "/grants", alice.token(), grant)
                .status())
        .as("no route to /internal through the gateway")
        .isEqualTo(404);
    for (URI at : List.of(GAME_STATE_A, GAME_STATE_B)) {
      assertThat(
              post(at, "/internal/players/" + alice.id() + "/grants", alice.token(), grant)
                  .status())
          .as("a player token on the internal grant route at %s", at)
          .isEqualTo(403);
    }
    JsonNode after = player(alice);
    assertThat(after.get("version").asLong()).as("nothing changed").isEqualTo(version);
    assertThat(after.get("gold").asLong()).isZero();
  }

  @Test
  void internal_routes_need_a_service_token_for_that_service_with_the_routes_scope() {
    String presence = "/internal/members/" + alice.id() + "/presence";
    String bulk = "/internal/match/bulk";
    String grants = "/internal/players/" + alice.id() + "/grants";
    String prepare = "/internal/tx/" + UUID.randomUUID() + "/prepare";
    String end = "/internal/matches/no-such-match/end";
    String gameServer = serviceToken("game-server", "game-state");
    String gameState = serviceToken("game-state", "game-state");
    String matchService = serviceToken("match-service", "member-service");
    String loadtest = serviceToken("loadtest", "match-service");
    record Call(String what, URI at, String path, String token, int status) {}
    List<Call> calls = new ArrayList<>();
    for (var route :
        List.of(
            Map.entry(MEMBER, presence),
            Map.entry(MATCH, bulk),
            Map.entry(GAME_STATE_A, grants),
            Map.entry(GAME_STATE_B, prepare),
            Map.entry(GAME_STATE_A, end))) {
      calls.add(new Call("no token", route.getKey(), route.getValue(), null, 401));
      calls.add(new Call("player token", route.getKey(), route.getValue(), alice.token(), 403));
    }
    // A service token for another service is not a token for this one.
    calls.add(new Call("token for game-state", MEMBER, presence, gameServer, 401));
    calls.add(new Call("token for game-state", MATCH, bulk, gameServer, 401));
    calls.add(new Call("token for member-service", GAME_STATE_A, grants, matchService, 401));
    // The right service, the wrong scope.
    calls.add(new Call("tx.participate only", GAME_STATE_A, grants, gameState, 403));
    calls.add(new Call("game.grant only", GAME_STATE_B, prepare, gameServer, 403));
    calls.add(new Call("tx.participate only", GAME_STATE_A, end, gameState, 403));
    // The right token gets through to the route itself.
    calls.add(new Call("presence.read", MEMBER, presence, matchService, 200));
    calls.add(new Call("match.results", GAME_STATE_A, end, gameServer, 404));
    // Outside the loadtest profile the bulk route does not exist at all.
    calls.add(new Call("match.bulk", MATCH, bulk, loadtest, 404));
    for (Call c : calls) {
      Response r =
          c.path().equals(presence)
              ? get(c.at(), c.path(), c.token())
              : post(c.at(), c.path(), c.token(), "{\"playerId\":\"" + alice.id() + "\"}");
      assertThat(r.status())
          .as("%s: %s %s -> %s", c.what(), c.at(), c.path(), r)
          .isEqualTo(c.status());
    }
  }

  @Test
  void rotating_x_forwarded_for_does_not_lift_the_log_in_throttle() {
    Player victim = newPlayer();
    String wrong = "{\"nickname\":\"" + victim.nickname() + "\",\"password\":\"wrong guess\"}";
    for (int i = 0; i < 5; i++) {
      String forwarded = "198.51.100." + (10 + i);
      Response r =
          send(
              Platform.request(GATEWAY, "/api/members/login", null)
                  .header("Content-Type", "application/json")
                  .header("X-Forwarded-For", forwarded)
                  .POST(HttpRequest.BodyPublishers.ofString(wrong)));
      assertThat(r.status()).as("guess %d: %s", i, r).isEqualTo(401);
    }
    String right = "{\"nickname\":\"" + victim.nickname() + "\",\"password\":\"correct horse\"}";
    for (URI at : List.of(GATEWAY, MEMBER)) {
      Response locked =
          send(
              Platform.request(at, "/api/members/login", null)
                  .header("Content-Type", "application/json")
                  .header("X-Forwarded-For", "203.0.113." + at.getPort() % 250)
                  .POST(HttpRequest.BodyPublishers.ofString(right)));
      assertThat(locked.status()).as("at %s: %s", at, locked).isEqualTo(429);
      assertThat(locked.header("Retry-After")).isNotNull();
    }
  }

  @Test
  void a_two_phase_commit_the_store_never_confirmed_changes_no_player() {
    Player bob = newPlayer();
    String participant = serviceToken("game-state", "game-state");
    String tx = UUID.randomUUID().toString();
    String step =
        "{\"playerId\":\""
            + bob.id()
            + "\",\"command\":\"earn-gold\",\"args\":{\"amount\":1000000,\"reason\":\"forged\"}}";
    Response prepared = post(GAME_STATE_A, "/internal/tx/" + tx + "/prepare", participant, step);
    assertThat(prepared.status()).as("%s", prepared).isEqualTo(200);
    Response committed =
        post(
            GAME_STATE_A,
            "/internal/tx/" + tx + "/commit",
            participant,
            "{\"playerId\":\"" + bob.id() + "\"}");
    assertThat(committed.status()).isEqualTo(200);
    for (URI at : List.of(GAME_STATE_A, GAME_STATE_B)) {
      JsonNode seen = get(at, "/api/game/players/" + bob.id(), bob.token()).json();
      assertThat(seen.get("gold").asLong()).as("gold at %s", at).isZero();
      assertThat(seen.get("version").asLong()).as("no event at %s", at).isEqualTo(1);
    }
  }

  @Test
  void a_hold_time_in_the_request_is_ignored() {
    Player carol = newPlayer();
    assertThat(grant(carol.id(), "{\"rewardId\":\"hold-test\",\"gold\":100}").status())
        .isEqualTo(200);
    String tx = UUID.randomUUID().toString();
    String step =
        "{\"playerId\":\""
            + carol.id()
            + "\",\"command\":\"spend-gold\",\"args\":{\"amount\":1},\"holdMillis\":3600000}";
    // Prepared on carol's owner, so her own commands meet the hold.
    URI owner =
        URI.create(
            "http://127.0.0.1:"
                + get(GATEWAY, "/api/game/players/" + carol.id(), carol.token())
                    .header("X-Citadel-Instance")
                    .replace("game-state-a", "8083")
                    .replace("game-state-b", "8084"));
    Response prepared =
        post(
            owner,
            "/internal/tx/" + tx + "/prepare",
            serviceToken("game-state", "game-state"),
            step);
    assertThat(prepared.status()).as("%s", prepared).isEqualTo(200);
    String purchase = "{\"itemId\":\"potion\",\"quantity\":1}";
    String path = "/api/game/players/" + carol.id() + "/commands/purchase";
    assertThat(post(GATEWAY, path, carol.token(), purchase).status())
        .as("held by the transaction")
        .isEqualTo(409);
    // The server's hold (5 s), not the hour asked for, nor even the 30 s cap.
    await()
        .atMost(Duration.ofSeconds(15))
        .until(() -> post(GATEWAY, path, carol.token(), purchase).status() == 200);
  }

  @Test
  void a_grant_sent_five_times_at_once_and_again_later_grants_once() {
    Player dave = newPlayer();
    String reward =
        "{\"rewardId\":\"match-x:win:" + dave.id() + "\",\"gold\":70,\"experience\":30}";
    List<CompletableFuture<Response>> sent = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      // To both instances: the race is between processes and in the database, not in a mailbox.
      URI at = i % 2 == 0 ? GAME_STATE_A : GAME_STATE_B;
      sent.add(
          CompletableFuture.supplyAsync(
              () ->
                  post(
                      at,
                      "/internal/players/" + dave.id() + "/grants",
                      serviceToken("game-server", "game-state"),
                      reward)));
    }
    List<Integer> statuses =
        sent.stream().map(CompletableFuture::join).map(Response::status).toList();
    assertThat(statuses)
        .as("a concurrent repeat may be told to retry, never granted twice")
        .allMatch(s -> s == 200 || s == 409);
    assertThat(grant(dave.id(), reward).json().get("repeated").asBoolean()).isTrue();
    JsonNode state = player(dave);
    assertThat(state.get("gold").asLong()).isEqualTo(70);
    assertThat(state.get("experience").asLong()).isEqualTo(30);
  }

  @Test
  void a_purchase_spends_exactly_the_catalogue_price() {
    Player erin = newPlayer();
    assertThat(grant(erin.id(), "{\"rewardId\":\"shop-test\",\"gold\":1000}").status())
        .isEqualTo(200);
    long price = get(GATEWAY, "/api/game/catalogue", erin.token()).json().get("shield").asLong();
    String path = "/api/game/players/" + erin.id() + "/commands/purchase";
    Response bought =
        post(GATEWAY, path, erin.token(), "{\"itemId\":\"shield\",\"quantity\":2,\"price\":1}");
    assertThat(bought.status()).as("%s", bought).isEqualTo(200);
    assertThat(bought.json().at("/player/gold").asLong()).isEqualTo(1000 - 2 * price);
    assertThat(bought.json().at("/player/inventory/shield").asInt()).isEqualTo(2);
    assertThat(post(GATEWAY, path, erin.token(), "{\"itemId\":\"dragon\",\"quantity\":1}").status())
        .isEqualTo(404);
  }

  @Test
  void management_endpoints_are_not_reachable_through_the_gateway() {
    assertThat(get(GATEWAY, "/actuator/prometheus", null).status()).isEqualTo(404);
    assertThat(get(GATEWAY, "/actuator/prometheus", alice.token()).status()).isEqualTo(404);
    assertThat(get(GATEWAY, "/actuator/metrics", alice.token()).status()).isEqualTo(404);
    assertThat(get(GATEWAY, "/actuator/info", alice.token()).status()).isEqualTo(404);
    // ... nor on any service port: they live on the management ports (port + 1000).
    for (URI at : List.of(MEMBER, MATCH, GAME_STATE_A)) {
      assertThat(get(at, "/actuator/prometheus", alice.token()).status())
          .as("%s", at)
          .isEqualTo(404);
    }
    assertThat(get(URI.create("http://127.0.0.1:9080"), "/actuator/prometheus", null).status())
        .as("the gateway's management port, for Prometheus")
        .isEqualTo(200);
  }

  @Test
  void a_token_in_the_query_string_is_read_only_on_the_websocket_path() {
    Response r =
        get(GATEWAY, "/api/game/players/" + alice.id() + "?access_token=" + alice.token(), null);
    assertThat(r.status()).isEqualTo(401);
    Response direct =
        get(
            GAME_STATE_A,
            "/api/game/players/" + alice.id() + "?access_token=" + alice.token(),
            null);
    assertThat(direct.status()).isEqualTo(401);
  }

  @Test
  void log_in_folds_letter_case_as_sign_up_does() {
    Player frank = newPlayer();
    String dotted = "\u0130" + frank.nickname().substring(1).toUpperCase();
    Response r =
        post(
            GATEWAY,
            "/api/members/login",
            null,
            "{\"nickname\":\"" + dotted + "\",\"password\":\"correct horse\"}");
    assertThat(r.status()).as("%s", r).isEqualTo(401);
  }

  @Test
  void the_public_keys_are_served_through_the_gateway() {
    Response jwks = get(GATEWAY, "/.well-known/jwks.json", null);
    assertThat(jwks.status()).isEqualTo(200);
    assertThat(jwks.body()).contains(Platform.signingKey().getKeyID()).doesNotContain("\"d\"");
  }
}
