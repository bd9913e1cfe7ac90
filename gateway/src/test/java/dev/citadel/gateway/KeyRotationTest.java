package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jwt.SignedJWT;
import dev.citadel.infra.FreePorts;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.web.testing.TestIdentity;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Rotating member-service's signing key without downtime, with two member-service replicas (real
 * processes on one database) and a gateway: publish the next key, sign with it while the previous
 * one is still published, then retire the previous one. Tokens issued before a step keep working
 * until the key that signed them is retired; both replicas issue tokens the gateway accepts at
 * every step.
 */
@CitadelInfra
class KeyRotationTest {
  static final String DB = "member_rotation";
  static final List<ServiceProcess> members = new ArrayList<>();
  static ConfigurableApplicationContext gateway;

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
    members.forEach(m -> m.stop(Duration.ofSeconds(20)));
  }

  /** Both replicas (re)started with these keys; the first keeps its port for the gateway. */
  static void deploy(RSAKey signing, RSAKey next, RSAKey previous) throws InterruptedException {
    List<Integer> ports =
        members.isEmpty()
            ? List.of(FreePorts.next(), FreePorts.next())
            : members.stream().map(m -> m.spec().port()).toList();
    members.forEach(ServiceProcess::signalStop);
    members.forEach(m -> m.awaitStopped(Duration.ofSeconds(20)));
    members.clear();
    for (int i = 0; i < 2; i++) {
      Map<String, String> env = new java.util.HashMap<>();
      env.put("SERVER_PORT", Integer.toString(ports.get(i)));
      if (next != null) {
        env.put("CITADEL_JWT_NEXT_KEY", TestIdentity.pem(next));
      }
      if (previous != null) {
        env.put("CITADEL_JWT_PREVIOUS_KEY", TestIdentity.pem(previous));
      }
      members.add(
          TestIdentity.launchMember(
              "member-rot-" + i, DB, TestIdentity.pem(signing), env, ports.get(i)));
    }
    for (ServiceProcess m : members) {
      m.awaitHealthy(Duration.ofSeconds(180));
    }
  }

  static WebTestClient client(URI base) {
    return WebTestClient.bindToServer()
        .baseUrl(base.toString())
        .responseTimeout(Duration.ofSeconds(30))
        .build();
  }

  static String logIn(URI member, String nickname) {
    return client(member)
        .post()
        .uri("/api/members/login")
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"nickname\":\"" + nickname + "\",\"password\":\"correct horse\"}")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody(Map.class)
        .returnResult()
        .getResponseBody()
        .get("token")
        .toString();
  }

  static int me(String token) {
    return client(URI.create("http://127.0.0.1:" + Cluster.port(gateway)))
        .get()
        .uri("/api/members/me")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .returnResult(String.class)
        .getStatus()
        .value();
  }

  /** A path with no route: the gateway's own answer, after its own token check. */
  static int atGateway(String token) {
    return client(URI.create("http://127.0.0.1:" + Cluster.port(gateway)))
        .get()
        .uri("/api/no-such-route")
        .headers(h -> h.setBearerAuth(token))
        .exchange()
        .returnResult(String.class)
        .getStatus()
        .value();
  }

  static String kid(String token) throws Exception {
    return SignedJWT.parse(token).getHeader().getKeyID();
  }

  @Test
  void keys_rotate_without_a_token_refused_before_its_key_is_retired() throws Exception {
    RSAKey k1 = TestIdentity.generateKey();
    RSAKey k2 = TestIdentity.generateKey();
    deploy(k1, null, null);
    URI m1 = members.get(0).url();
    URI m2 = members.get(1).url();
    gateway =
        new SpringApplicationBuilder(GatewayApplication.class)
            .run(
                "--server.port=0",
                "--management.server.port=0",
                // Keys fetched again every second (5 minutes in production), so that retiring one
                // shows at the gateway within the test.
                "--citadel.security.keys-refresh=1s",
                "--CITADEL_MEMBER_URL=" + m1,
                "--citadel.security.client.secret=" + TestIdentity.CLIENT_SECRETS.get("gateway"),
                "--spring.data.redis.url=" + SharedInfra.redis().url(),
                "--citadel.gateway.game-state.instances=http://127.0.0.1:" + FreePorts.next());
    String nickname = "rot" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    client(m1)
        .post()
        .uri("/api/members")
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"nickname\":\"" + nickname + "\",\"password\":\"correct horse\"}")
        .exchange()
        .expectStatus()
        .isCreated();

    // Before: both replicas sign with k1, the gateway accepts what either issues.
    String t1 = logIn(m1, nickname);
    String t2 = logIn(m2, nickname);
    assertThat(List.of(kid(t1), kid(t2))).containsOnly(k1.getKeyID());
    assertThat(List.of(me(t1), me(t2))).containsOnly(200);

    // Step 1: k2 is published as the next key; k1 still signs.
    deploy(k1, k2, null);
    assertThat(kid(logIn(m2, nickname))).isEqualTo(k1.getKeyID());
    String jwks =
        client(m1)
            .get()
            .uri("/.well-known/jwks.json")
            .exchange()
            .expectBody(String.class)
            .returnResult()
            .getResponseBody();
    assertThat(jwks).contains(k1.getKeyID()).contains(k2.getKeyID());
    assertThat(me(t1)).isEqualTo(200);

    // Step 2: k2 signs, k1 is still published: old and new tokens alike are accepted.
    deploy(k2, null, k1);
    String t3 = logIn(m1, nickname);
    String t4 = logIn(m2, nickname);
    assertThat(List.of(kid(t3), kid(t4))).containsOnly(k2.getKeyID());
    assertThat(List.of(me(t1), me(t2), me(t3), me(t4))).containsOnly(200);
    // The gateway verifies t1 now and remembers it (VerifiedTokens): retiring k1 must still end it.
    assertThat(atGateway(t1)).isEqualTo(404);

    // Step 3, once every k1 token has expired: k1 is retired and verifies nothing any more,
    // neither at member-service nor, once it has fetched the keys again, at the gateway (a route
    // the gateway answers itself: 404 for a token it accepts, 401 for one it refuses).
    deploy(k2, null, null);
    assertThat(me(t3)).isEqualTo(200);
    assertThat(me(t1)).isEqualTo(401);
    assertThat(atGateway(t3)).isEqualTo(404);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> atGateway(t1) == 401);
    assertThat(atGateway(t3)).isEqualTo(404);
  }
}
