package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

/**
 * What member-service receives from the gateway for a log-in, as it is sent on the wire: the
 * client's address in {@code X-Forwarded-For} (one entry, the address the gateway resolved) and the
 * gateway's own token. Spring Cloud Gateway's own header filter, with its X-Forwarded handling off,
 * removed every {@code X-Forwarded-*} header as the request left, the gateway's own included:
 * member-service counted every log-in under the gateway's address, and one attacker could lock
 * anyone out.
 */
@CitadelInfra
class ForwardedAddressTest {
  final AtomicReference<List<String>> forwardedFor = new AtomicReference<>();
  final AtomicReference<List<String>> forwardingHeaders = new AtomicReference<>();
  final AtomicReference<String> authorization = new AtomicReference<>();

  /** A stand-in member-service (log-in only) and game-state instance (its probe only). */
  final DisposableServer member =
      HttpServer.create()
          .host("127.0.0.1")
          .port(0)
          .route(
              routes ->
                  routes
                      .get("/readyz", (request, response) -> response.sendString(Mono.just("{}")))
                      .post(
                          "/api/members/login",
                          (request, response) -> {
                            forwardedFor.set(request.requestHeaders().getAll("X-Forwarded-For"));
                            forwardingHeaders.set(
                                request.requestHeaders().names().stream()
                                    .filter(
                                        n ->
                                            n.toLowerCase(java.util.Locale.ROOT)
                                                    .startsWith("x-forwarded-")
                                                || n.equalsIgnoreCase("Forwarded"))
                                    .toList());
                            authorization.set(request.requestHeaders().get("Authorization"));
                            return response
                                .header("Content-Type", "application/json")
                                .sendString(Mono.just("{}"));
                          }))
          .bindNow(Duration.ofSeconds(5));

  ConfigurableApplicationContext gateway;

  @AfterEach
  void stop() {
    if (gateway != null) {
      gateway.close();
    }
    member.disposeNow();
  }

  @Test
  void member_service_receives_the_client_address_the_gateway_resolved_and_its_token() {
    String identity = TestIdentity.shared().memberUrl().toString().replaceAll("/$", "");
    gateway =
        new SpringApplicationBuilder(GatewayApplication.class)
            .run(
                "--server.port=0",
                "--management.server.port=0",
                "--CITADEL_MEMBER_URL=http://127.0.0.1:" + member.port(),
                "--citadel.security.jwks-uri=" + identity + "/.well-known/jwks.json",
                "--citadel.security.client.token-uri=" + identity + "/oauth2/token",
                "--citadel.security.client.secret=" + TestIdentity.CLIENT_SECRETS.get("gateway"),
                // The test is the ingress in front of the gateway: its X-Forwarded-For is believed.
                "--citadel.security.trusted-proxies=127.0.0.1/32",
                "--spring.data.redis.url=" + SharedInfra.redis().url(),
                "--citadel.gateway.game-state.instances=http://127.0.0.1:" + member.port(),
                "--citadel.gateway.game-state.health-interval=200ms");
    int port = Integer.parseInt(gateway.getEnvironment().getProperty("local.server.port", "0"));

    int status =
        HttpClient.create()
            .headers(
                h ->
                    // What the ingress (trusted) says: the client is the last entry it added.
                    h.set("X-Forwarded-For", "198.51.100.1, 203.0.113.9")
                        .set("X-Forwarded-Host", "evil.example")
                        .set("Content-Type", "application/json"))
            .post()
            .uri("http://127.0.0.1:" + port + "/api/members/login")
            .send(
                reactor.netty.ByteBufFlux.fromString(
                    Mono.just("{\"nickname\":\"someone\",\"password\":\"correct horse\"}")))
            .responseSingle((response, body) -> body.then(Mono.just(response.status().code())))
            .block(Duration.ofSeconds(30));

    assertThat(status).isEqualTo(200);
    assertThat(forwardedFor.get()).containsExactly("203.0.113.9");
    assertThat(forwardingHeaders.get()).containsExactly("X-Forwarded-For");
    assertThat(authorization.get()).startsWith("Bearer ").doesNotContain("someone");
  }
}
