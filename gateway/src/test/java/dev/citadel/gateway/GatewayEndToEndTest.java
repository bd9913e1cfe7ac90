package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.springframework.http.HttpMethod.GET;
import static org.springframework.http.HttpMethod.POST;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import dev.citadel.affinity.Rendezvous;
import dev.citadel.gateway.routing.GamePath;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.notify.PlayerNotifier;
import dev.citadel.web.testing.TestIdentity;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.reactive.socket.client.ReactorNettyWebSocketClient;
import reactor.core.Disposable;

/**
 * The gateway in front of real services: member-service and three game-state instances as
 * processes, two gateways in this JVM. Tests run in order because affinity changes the cluster.
 *
 * <p>One class on purpose (over 300 lines): starting the cluster takes most of a minute, and every
 * test here needs it.
 */
@CitadelInfra
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayEndToEndTest {
  static Cluster cluster;
  static ConfigurableApplicationContext gatewayA;
  static ConfigurableApplicationContext gatewayB;
  static final String INSTANCE = "X-Citadel-Instance";

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster().start(3);
    gatewayA = cluster.gateway(10_000, 20_000);
    gatewayB = cluster.gateway(10_000, 20_000);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> Cluster.healthy(gatewayA).size() == 3 && Cluster.healthy(gatewayB).size() == 3);
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static WebTestClient client(ConfigurableApplicationContext gateway) {
    return WebTestClient.bindToServer()
        .baseUrl("http://127.0.0.1:" + Cluster.port(gateway))
        .responseTimeout(Duration.ofSeconds(30))
        .build();
  }

  record Player(String id, String nickname, String token) {}

  static Player signUpAndLogIn(WebTestClient web) {
    String nickname = "p" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String body = "{\"nickname\":\"" + nickname + "\",\"password\":\"correct horse\"}";
    Map<?, ?> signed =
        web.post()
            .uri("/api/members")
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(body)
            .exchange()
            .expectStatus()
            .isCreated()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    Map<?, ?> login =
        web.post()
            .uri("/api/members/login")
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(body)
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(Map.class)
            .returnResult()
            .getResponseBody();
    return new Player(signed.get("playerId").toString(), nickname, login.get("token").toString());
  }

  /**
   * The player's game state exists (created from member.events) and answers through the gateway.
   */
  static String awaitPlayer(WebTestClient web, Player p) {
    List<String> instance = new ArrayList<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .untilAsserted(
            () -> {
              var result =
                  web.get()
                      .uri("/api/game/players/{id}", p.id())
                      .headers(h -> h.setBearerAuth(p.token()))
                      .exchange()
                      .expectStatus()
                      .isOk()
                      .returnResult(String.class);
              instance.add(0, result.getResponseHeaders().getFirst(INSTANCE));
            });
    return instance.get(0);
  }

  /** Claims as member-service would sign them for a player, before a test bends them. */
  static Map<String, Object> playerClaims(String subject, Instant issued, Instant expires) {
    Map<String, Object> claims = new HashMap<>();
    claims.put("iss", "citadel");
    claims.put("sub", subject);
    claims.put("aud", List.of("citadel"));
    claims.put("kind", "player");
    claims.put("iat", Date.from(issued));
    claims.put("exp", Date.from(expires));
    return claims;
  }

  /** Signs claims with a key (RS256, or the given algorithm and signer). */
  static String sign(Map<String, Object> claims, JWSAlgorithm alg, JWSSigner signer, String kid)
      throws Exception {
    JWTClaimsSet.Builder b = new JWTClaimsSet.Builder();
    claims.forEach(b::claim);
    SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(kid).build(), b.build());
    jwt.sign(signer);
    return jwt.serialize();
  }

  static String rs256(RSAKey key, Map<String, Object> claims) throws Exception {
    return sign(claims, JWSAlgorithm.RS256, new RSASSASigner(key), key.getKeyID());
  }

  /** A game server's grant straight to a game-state instance (internal: not through a gateway). */
  static void grantGold(Player p, long gold) {
    WebTestClient.bindToServer()
        .baseUrl(cluster.anyGameState().toString())
        .responseTimeout(Duration.ofSeconds(30))
        .build()
        .post()
        .uri("/internal/players/{id}/grants", p.id())
        .headers(h -> h.setBearerAuth(gameServerToken()))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"rewardId\":\"" + UUID.randomUUID() + "\",\"gold\":" + gold + "}")
        .exchange()
        .expectStatus()
        .isOk();
  }

  static String gameServerToken;

  /** From member-service's real token endpoint, as a game server gets it (once: 5 minutes). */
  static synchronized String gameServerToken() {
    if (gameServerToken == null) {
      gameServerToken = fetchGameServerToken();
    }
    return gameServerToken;
  }

  static String fetchGameServerToken() {
    return cluster.gameServerToken();
  }

  void problem(WebTestClient.ResponseSpec r, int status, String detailPart) {
    r.expectStatus()
        .isEqualTo(status)
        .expectBody()
        .jsonPath("$.detail")
        .value(String.class, d -> assertThat(d).contains(detailPart));
  }

  @Test
  @Order(1)
  void tokens_are_required_and_checked() throws Exception {
    WebTestClient web = client(gatewayA);
    Player alice = signUpAndLogIn(web);
    awaitPlayer(web, alice);
    String path = "/api/game/players/" + alice.id();
    Instant now = Instant.now();

    problem(web.get().uri(path).exchange(), 401, "a token is required");
    List<String> refused = new ArrayList<>();
    refused.add("not.a.jwt");
    // Signed by a key that is not member-service's.
    refused.add(
        rs256(TestIdentity.generateKey(), playerClaims(alice.id(), now, now.plusSeconds(600))));
    // Expired (beyond the clock skew).
    refused.add(
        rs256(
            cluster.signingKey,
            playerClaims(alice.id(), now.minusSeconds(7200), now.minusSeconds(3600))));
    // No exp at all.
    Map<String, Object> noExp = playerClaims(alice.id(), now, now.plusSeconds(600));
    noExp.remove("exp");
    refused.add(rs256(cluster.signingKey, noExp));
    // Another audience (a service token for game-state), and no kind.
    Map<String, Object> service = playerClaims("game-server", now, now.plusSeconds(600));
    service.put("aud", List.of("game-state"));
    service.put("kind", "service");
    service.put("scope", "game.grant");
    refused.add(rs256(cluster.signingKey, service));
    Map<String, Object> noKind = playerClaims(alice.id(), now, now.plusSeconds(600));
    noKind.remove("kind");
    refused.add(rs256(cluster.signingKey, noKind));
    // alg=none, and HS256 "signed" with the public key as the secret.
    refused.add(
        new PlainJWT(
                new JWTClaimsSet.Builder()
                    .issuer("citadel")
                    .subject(alice.id())
                    .audience("citadel")
                    .claim("kind", "player")
                    .expirationTime(Date.from(now.plusSeconds(600)))
                    .build())
            .serialize());
    refused.add(
        sign(
            playerClaims(alice.id(), now, now.plusSeconds(600)),
            JWSAlgorithm.HS256,
            new MACSigner(
                java.security.MessageDigest.getInstance("SHA-256")
                    .digest(cluster.signingKey.toPublicKey().getEncoded())),
            cluster.signingKey.getKeyID()));
    for (String token : refused) {
      problem(
          web.get().uri(path).headers(h -> h.setBearerAuth(token)).exchange(),
          401,
          "invalid, expired or not for this service");
    }
    String valid = rs256(cluster.signingKey, playerClaims(alice.id(), now, now.plusSeconds(600)));
    web.get().uri(path).headers(h -> h.setBearerAuth(valid)).exchange().expectStatus().isOk();
  }

  /**
   * A client that still sends its expired token (or any other header) when it logs in again is not
   * refused for it: the gateway reads no token on sign-up and log-in and replaces it with its own.
   */
  @Test
  @Order(2)
  void log_in_with_a_stale_token_still_works() throws Exception {
    WebTestClient web = client(gatewayA);
    Player alice = signUpAndLogIn(web);
    Instant now = Instant.now();
    String expired =
        rs256(
            cluster.signingKey,
            playerClaims(alice.id(), now.minusSeconds(7200), now.minusSeconds(3600)));
    for (String stale : List.of(expired, "not.a.jwt")) {
      web.post()
          .uri("/api/members/login")
          .headers(h -> h.setBearerAuth(stale))
          .contentType(MediaType.APPLICATION_JSON)
          .bodyValue("{\"nickname\":\"" + alice.nickname() + "\",\"password\":\"correct horse\"}")
          .exchange()
          .expectStatus()
          .isOk();
    }
  }

  @Test
  @Order(2)
  void a_player_can_never_act_as_another_even_by_sending_the_identity_header() {
    // The routes are looked up by ours (FirstMatchingRoute), not the stock mapping.
    assertThat(
            gatewayA.getBean(
                org.springframework.cloud.gateway.handler.RoutePredicateHandlerMapping.class))
        .isInstanceOf(dev.citadel.gateway.routing.FirstMatchingRoute.class);
    // ... first: the controllers' mappings are not asked on every routed request.
    assertThat(
            gatewayA
                .getBean(org.springframework.web.reactive.DispatcherHandler.class)
                .getHandlerMappings())
        .first()
        .isInstanceOf(dev.citadel.gateway.routing.FirstMatchingRoute.class);
    WebTestClient web = client(gatewayA);
    // The probes' paths, asked after the routes now, still answer.
    web.get().uri("/readyz").exchange().expectStatus().isOk();
    web.get().uri("/livez").exchange().expectStatus().isOk();
    // ... and so do the gateway's own description and its UI (served, whatever they answer).
    for (String own : List.of("/v3/api-docs", "/swagger-ui.html")) {
      web.get()
          .uri(own)
          .exchange()
          .expectStatus()
          .value(status -> assertThat(status).as(own).isNotIn(401, 404));
    }
    Player alice = signUpAndLogIn(web);
    Player bob = signUpAndLogIn(web);
    awaitPlayer(web, alice);
    awaitPlayer(web, bob);

    problem(
        web.get()
            .uri("/api/game/players/{id}", bob.id())
            .headers(h -> h.setBearerAuth(alice.token()))
            .exchange(),
        403,
        "only act on themselves");
    problem(
        web.get()
            .uri("/api/game/players/{id}", bob.id())
            .headers(
                h -> {
                  h.setBearerAuth(alice.token());
                  h.set("X-Player-Id", bob.id());
                })
            .exchange(),
        403,
        "only act on themselves");
    problem(
        web.post()
            .uri("/api/game/players/{id}/commands/use-item", bob.id())
            .headers(
                h -> {
                  h.setBearerAuth(alice.token());
                  h.set("X-Player-Id", bob.id());
                })
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue("{\"itemId\":\"potion\",\"quantity\":1}")
            .exchange(),
        403,
        "only act on themselves");
    // Alice's own command goes through, as Alice whatever header she sends.
    grantGold(alice, 25);
    web.post()
        .uri("/api/game/players/{id}/commands/purchase", alice.id())
        .headers(
            h -> {
              h.setBearerAuth(alice.token());
              h.set("X-Player-Id", bob.id());
            })
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"itemId\":\"potion\",\"quantity\":1}")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.player.id")
        .isEqualTo(alice.id());
    web.get()
        .uri("/api/members/me")
        .headers(
            h -> {
              h.setBearerAuth(alice.token());
              h.set("X-Player-Id", bob.id());
            })
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.playerId")
        .isEqualTo(alice.id());
  }

  /** What a client sees of an answer: status, headers but the two that vary, body. */
  record Seen(int status, Map<String, List<String>> headers, String body) {}

  static Seen seen(WebTestClient.RequestHeadersSpec<?> request) {
    var result = request.exchange().expectBody(String.class).returnResult();
    Map<String, List<String>> headers = new TreeMap<>();
    result
        .getResponseHeaders()
        .forEach(
            (name, values) -> {
              String n = name.toLowerCase(Locale.ROOT);
              if (!n.equals("date") && !n.equals("x-ratelimit-remaining")) {
                headers.put(n, values);
              }
            });
    return new Seen(result.getStatus().value(), headers, result.getResponseBody());
  }

  /** One request, sent alike to two gateways: method, path after the base URL as sent, headers. */
  record Case(
      String name,
      boolean direct,
      HttpMethod method,
      String path,
      Consumer<HttpHeaders> headers,
      String body) {
    WebTestClient.RequestHeadersSpec<?> request(WebTestClient web, String base) {
      var spec = web.method(method).uri(URI.create(base + path)).headers(headers);
      return body == null ? spec : spec.contentType(MediaType.APPLICATION_JSON).bodyValue(body);
    }
  }

  @Test
  @Order(3)
  void the_direct_game_path_answers_exactly_as_the_generic_way() throws Exception {
    ConfigurableApplicationContext generic =
        cluster.gateway(10_000, 20_000, Map.of("citadel.gateway.direct-game-path", false));
    await().atMost(Duration.ofSeconds(30)).until(() -> Cluster.healthy(generic).size() == 3);
    // The gateway's security chain is one the path knows: a filter added to it turns the path off
    // (and this test fails until the path is taught what the filter does).
    assertThat(gatewayA.getBean(GamePath.class).active()).isTrue();
    assertThat(generic.getBean(GamePath.class).active()).isFalse();
    WebTestClient web = client(gatewayA);
    Player alice = signUpAndLogIn(web);
    Player bob = signUpAndLogIn(web);
    awaitPlayer(web, alice);
    awaitPlayer(web, bob);
    String aliceForged =
        rs256(
            new RSAKeyGenerator(2048).keyID("rogue").generate(),
            playerClaims(alice.id(), Instant.now(), Instant.now().plusSeconds(600)));
    String own = "/api/game/players/" + alice.id();
    Consumer<HttpHeaders> asAlice = h -> h.setBearerAuth(alice.token());
    String item = "{\"itemId\":\"nothing\",\"quantity\":1}"; // one she does not have
    List<Case> cases =
        List.of(
            new Case("own player", true, GET, own, asAlice, null),
            new Case(
                "own player, another's id in X-Player-Id, a client's X-Forwarded-For",
                true,
                GET,
                own,
                asAlice.andThen(
                    h -> {
                      h.set("X-Player-Id", bob.id());
                      h.set("X-Forwarded-For", "203.0.113.9");
                    }),
                null),
            new Case(
                "another player (game-state refuses)",
                true,
                GET,
                "/api/game/players/" + bob.id(),
                asAlice,
                null),
            new Case(
                "a command with a body", true, POST, own + "/commands/use-item", asAlice, item),
            new Case("a malformed body", true, POST, own + "/commands/use-item", asAlice, "{"),
            new Case("a query string", true, GET, "/api/game/leaderboard?limit=3", asAlice, null),
            new Case("a game path no service has", true, GET, "/api/game/nothing", asAlice, null),
            new Case("HEAD", true, HttpMethod.HEAD, own, asAlice, null),
            new Case("OPTIONS, not cross-origin", true, HttpMethod.OPTIONS, own, asAlice, null),
            new Case(
                "two Authorization headers (the first counts, both ways)",
                true,
                GET,
                own,
                h -> {
                  h.add(HttpHeaders.AUTHORIZATION, "Bearer " + alice.token());
                  h.add(HttpHeaders.AUTHORIZATION, "Bearer " + aliceForged);
                },
                null),
            new Case(
                "a bearer header and a query token (not read on this path)",
                true,
                GET,
                own + "?access_token=" + aliceForged,
                asAlice,
                null),
            new Case("TRACE (the firewall refuses)", false, HttpMethod.TRACE, own, asAlice, null),
            new Case(
                "';' in the path (the firewall refuses)",
                false,
                GET,
                "/api/game/players;x=1/" + alice.id(),
                asAlice,
                null),
            new Case(
                "'//' in the path (the firewall refuses)",
                false,
                GET,
                "/api/game//players/" + alice.id(),
                asAlice,
                null),
            new Case(
                "'..' in the path (the firewall refuses)",
                false,
                GET,
                "/api/game/x/../players/" + alice.id(),
                asAlice,
                null),
            new Case(
                "an encoded slash (the firewall refuses)",
                false,
                GET,
                "/api/game/players/a%2Fb",
                asAlice,
                null),
            new Case("no token", false, GET, own, h -> {}, null),
            new Case(
                "a token signed by another key",
                false,
                GET,
                own,
                h -> h.setBearerAuth(aliceForged),
                null),
            new Case(
                "a service's token",
                false,
                GET,
                own,
                h -> h.setBearerAuth(gameServerToken()),
                null),
            new Case(
                "cross-origin",
                false,
                GET,
                own,
                asAlice.andThen(h -> h.setOrigin("https://game.example")),
                null),
            new Case(
                "a header value with a character outside printable ASCII",
                false,
                GET,
                own,
                asAlice.andThen(h -> h.set("X-Note", "caf\u00e9")),
                null));
    GamePath direct = gatewayA.getBean(GamePath.class);
    for (Case c : cases) {
      long before = direct.taken();
      Seen viaDirect = seen(c.request(client(gatewayA), base(gatewayA)));
      assertThat(direct.taken() - before)
          .as(c.name() + ": taken directly")
          .isEqualTo(c.direct() ? 1 : 0);
      Seen viaGeneric = seen(c.request(client(generic), base(generic)));
      assertThat(viaDirect).as(c.name()).isEqualTo(viaGeneric);
    }
    assertThat(generic.getBean(GamePath.class).taken()).isZero();
  }

  static String base(ConfigurableApplicationContext gateway) {
    return "http://127.0.0.1:" + Cluster.port(gateway);
  }

  @Test
  @Order(4)
  void internal_endpoints_are_unreachable_and_errors_pass_through() {
    WebTestClient web = client(gatewayA);
    Player alice = signUpAndLogIn(web);
    web.get()
        .uri("/internal/members/{id}/presence", alice.id())
        .headers(h -> h.setBearerAuth(alice.token()))
        .exchange()
        .expectStatus()
        .isNotFound();
    web.get()
        .uri("/internal/members/{id}/presence", alice.id())
        .exchange()
        .expectStatus()
        .isUnauthorized();
    problem(
        web.post()
            .uri("/api/members")
            .contentType(MediaType.APPLICATION_JSON)
            .bodyValue(
                "{\"nickname\":\""
                    + alice.nickname().toUpperCase()
                    + "\",\"password\":\"other pass\"}")
            .exchange(),
        409,
        "is taken");
  }

  @Test
  @Order(4)
  void rate_limit_answers_429_past_the_rate_and_recovers() {
    // Closed with the others at the end: contexts in one JVM share Reactor Netty's global
    // resources, and closing one early would cut the others off.
    ConfigurableApplicationContext limited = cluster.gateway(2, 4);
    // Ours (leased, the script read once), not Spring Cloud Gateway's (a Redis call a request,
    // the jar entry checked each time).
    assertThat(limited.getBeanFactory().getBeanDefinition("redisRateLimiter").getFactoryBeanName())
        .isEqualTo("rateLimiterConfiguration");
    assertThat(limited.getBean("redisRateLimiter"))
        .isInstanceOf(dev.citadel.gateway.ratelimit.LeasedRateLimiter.class);
    {
      await().atMost(Duration.ofSeconds(30)).until(() -> Cluster.healthy(limited).size() == 3);
      WebTestClient web = client(gatewayA);
      Player carol = signUpAndLogIn(web);
      awaitPlayer(web, carol);
      WebTestClient throttled = client(limited);
      List<Integer> statuses = new ArrayList<>();
      List<String> refusals = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        var result =
            throttled
                .get()
                .uri("/api/game/players/{id}", carol.id())
                .headers(h -> h.setBearerAuth(carol.token()))
                .exchange()
                .expectBody(String.class)
                .returnResult();
        statuses.add(result.getStatus().value());
        if (result.getStatus().value() == 429) {
          refusals.add(
              result.getResponseHeaders().getContentType()
                  + " "
                  // Spring Security's headers on the gateway's own answer too (GamePath)
                  + result.getResponseHeaders().getFirst("X-Content-Type-Options")
                  + " retry-after="
                  + result.getResponseHeaders().getFirst("Retry-After")
                  + " "
                  + result.getResponseBody());
        }
      }
      assertThat(statuses).contains(200, 429);
      // ... taken the direct way (the refusal included).
      // (the first one verified her token, new to this gateway, the generic way)
      assertThat(limited.getBean(GamePath.class).taken()).isEqualTo(19);
      // A problem in our words, with when to try again; not an empty 429.
      assertThat(refusals)
          .allSatisfy(
              r ->
                  assertThat(r)
                      .startsWith("application/problem+json nosniff retry-after=1 ")
                      .contains("\"status\":429"));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  throttled
                          .get()
                          .uri("/api/game/players/{id}", carol.id())
                          .headers(h -> h.setBearerAuth(carol.token()))
                          .exchange()
                          .returnResult(String.class)
                          .getStatus()
                          .value()
                      == 200);
    }
  }

  @Test
  @Order(4)
  void a_service_that_never_answers_is_a_504_in_time_not_a_hang() throws Exception {
    // A socket that accepts connections (the kernel's backlog) and never answers: a service
    // stalled behind the gateway. Without a response timeout the client would wait forever.
    try (ServerSocket stalled = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      ConfigurableApplicationContext impatient =
          cluster.gateway(
              10_000,
              20_000,
              Map.of(
                  "CITADEL_MATCH_URL",
                  "http://127.0.0.1:" + stalled.getLocalPort(),
                  "CITADEL_GATEWAY_RESPONSE_TIMEOUT",
                  "1s"));
      Player dave = signUpAndLogIn(client(gatewayA));
      WebTestClient web =
          WebTestClient.bindToServer()
              .baseUrl("http://127.0.0.1:" + Cluster.port(impatient))
              .responseTimeout(Duration.ofSeconds(10))
              .build();
      web.get()
          .uri("/api/match/queues")
          .headers(h -> h.setBearerAuth(dave.token()))
          .exchange()
          .expectStatus()
          .isEqualTo(504)
          .expectHeader()
          .contentType(MediaType.APPLICATION_PROBLEM_JSON)
          .expectBody()
          .jsonPath("$.detail")
          .value(String.class, d -> assertThat(d).contains("did not answer in time"));
    }
  }

  @Test
  @Order(5)
  void a_websocket_client_receives_a_notification_another_service_publishes() throws Exception {
    WebTestClient web = client(gatewayB);
    Player dana = signUpAndLogIn(web);
    awaitPlayer(web, dana);
    List<String> received = new CopyOnWriteArrayList<>();
    URI ws =
        URI.create("ws://127.0.0.1:" + Cluster.port(gatewayB) + "/ws?access_token=" + dana.token());
    Disposable connection =
        new ReactorNettyWebSocketClient()
            .execute(
                ws,
                session ->
                    session.receive().map(m -> m.getPayloadAsText()).doOnNext(received::add).then())
            .subscribe();
    var redisFactory =
        new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    redisFactory.afterPropertiesSet();
    try {
      await()
          .atMost(Duration.ofSeconds(20))
          .until(() -> received.stream().anyMatch(m -> m.contains("\"connected\"")));
      new PlayerNotifier(new ReactiveStringRedisTemplate(redisFactory))
          .notify(dana.id(), "match.found", java.util.Map.of("matchId", "m-42"))
          .block();
      await()
          .atMost(Duration.ofSeconds(1))
          .until(
              () ->
                  received.stream().anyMatch(m -> m.contains("match.found") && m.contains("m-42")));
    } finally {
      connection.dispose();
      redisFactory.destroy();
    }
  }

  @Test
  @Order(10)
  void affinity_is_shared_by_gateways_and_moves_only_what_it_must() throws Exception {
    WebTestClient a = client(gatewayA);
    WebTestClient b = client(gatewayB);
    List<Player> players = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      players.add(signUpAndLogIn(a));
    }
    Map<String, String> owner = new HashMap<>();
    for (Player p : players) {
      String viaA = awaitPlayer(a, p);
      String viaB = awaitPlayer(b, p);
      assertThat(viaB).as("both gateways agree on %s", p.id()).isEqualTo(viaA);
      owner.put(p.id(), viaA);
      grantGold(p, 7);
    }
    assertThat(owner.values()).containsAll(List.of("gs-1", "gs-2", "gs-3"));

    // A fourth instance joins: about a quarter of players move, all of them to it.
    cluster.launchGameState("gs-4").awaitHealthy(Cluster.STARTUP);
    cluster.announceInstances();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> Cluster.healthy(gatewayA).size() == 4 && Cluster.healthy(gatewayB).size() == 4);
    int moved = 0;
    for (Player p : players) {
      String now = servedBy(a, p);
      assertThat(servedBy(b, p)).isEqualTo(now);
      if (!now.equals(owner.get(p.id()))) {
        assertThat(now).as("a moved player goes to the new instance").isEqualTo("gs-4");
        moved++;
      }
      owner.put(p.id(), now);
    }
    assertThat(moved).as("about a quarter of 60").isBetween(5, 25);

    // One instance stops: only its players move, and their state is intact (from the store).
    cluster.stop("gs-2");
    cluster.announceInstances();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> Cluster.healthy(gatewayA).size() == 3 && Cluster.healthy(gatewayB).size() == 3);
    for (Player p : players) {
      var result =
          a.get()
              .uri("/api/game/players/{id}", p.id())
              .headers(h -> h.setBearerAuth(p.token()))
              .exchange()
              .expectStatus()
              .isOk()
              .expectBody(Map.class)
              .returnResult();
      String now = result.getResponseHeaders().getFirst(INSTANCE);
      if (owner.get(p.id()).equals("gs-2")) {
        assertThat(now).isNotEqualTo("gs-2");
      } else {
        assertThat(now).as("players of running instances stay").isEqualTo(owner.get(p.id()));
      }
      assertThat(result.getResponseBody().get("gold"))
          .as("state of %s intact", p.id())
          .isEqualTo(7);
    }
    // And the gateway's choice is the rendezvous choice over the instances it sees.
    List<URI> seen = Cluster.healthy(gatewayA);
    Player any = players.get(0);
    URI expected = Rendezvous.pick(any.id(), seen, URI::toString).orElseThrow();
    assertThat(cluster.gameStates).containsValue(expected);
  }

  static String servedBy(WebTestClient web, Player p) {
    return web.get()
        .uri("/api/game/players/{id}", p.id())
        .headers(h -> h.setBearerAuth(p.token()))
        .exchange()
        .expectStatus()
        .isOk()
        .returnResult(String.class)
        .getResponseHeaders()
        .getFirst(INSTANCE);
  }
}
