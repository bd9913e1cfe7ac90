package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.web.testing.TestIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

/**
 * The gateway's connections to a game-state instance are a bounded pool: past it a request is a 503
 * with Retry-After, not one more socket; proxied WebSockets take no place in it. The instance is a
 * stand-in that holds {@code /api/game/players/held} and every socket until told.
 */
@CitadelInfra
class ProxyPoolTest {
  final Sinks.Empty<Void> release = Sinks.empty();
  final AtomicInteger held = new AtomicInteger();
  final AtomicInteger socketsOpen = new AtomicInteger();
  final DisposableServer instance =
      HttpServer.create()
          .host("127.0.0.1")
          .port(0)
          .route(
              routes ->
                  routes
                      .get("/readyz", (request, response) -> response.sendString(Mono.just("{}")))
                      .get(
                          "/api/game/players/held",
                          (request, response) -> {
                            held.incrementAndGet();
                            return response.sendString(release.asMono().thenReturn("{}"));
                          })
                      .get(
                          "/api/game/players/{id}",
                          (request, response) -> response.sendString(Mono.just("{}")))
                      .ws(
                          "/ws",
                          (in, out) -> {
                            socketsOpen.incrementAndGet();
                            return out.sendString(Mono.just("hello"))
                                .then(release.asMono())
                                .then(in.receive().then());
                          }))
          .bindNow(Duration.ofSeconds(5));
  ConfigurableApplicationContext gateway;
  final List<Disposable> open = new ArrayList<>();

  @AfterEach
  void stop() {
    release.tryEmitEmpty();
    open.forEach(Disposable::dispose);
    if (gateway != null) {
      gateway.close();
    }
    instance.disposeNow();
  }

  void startGateway() {
    gateway =
        new SpringApplicationBuilder(GatewayApplication.class)
            .run(
                "--server.port=0",
                "--management.server.port=0",
                "--CITADEL_MEMBER_URL=" + TestIdentity.shared().memberUrl(),
                "--citadel.security.client.secret=" + TestIdentity.CLIENT_SECRETS.get("gateway"),
                "--spring.data.redis.url=" + SharedInfra.redis().url(),
                "--citadel.gateway.game-state.instances=http://127.0.0.1:" + instance.port(),
                "--citadel.gateway.game-state.health-interval=200ms",
                "--spring.cloud.gateway.server.webflux.httpclient.pool.max-connections=2",
                "--spring.cloud.gateway.server.webflux.httpclient.pool.acquire-timeout=300");
  }

  HttpClient client(String player) {
    return HttpClient.create()
        .baseUrl("http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port"))
        .headers(h -> h.set("Authorization", "Bearer " + TestIdentity.shared().player(player)));
  }

  record Answer(int status, String retryAfter) {}

  Mono<Answer> get(String player, String path) {
    return client(player)
        .get()
        .uri(path)
        .responseSingle(
            (response, body) ->
                body.asString()
                    .defaultIfEmpty("")
                    .map(
                        b ->
                            new Answer(
                                response.status().code(),
                                response.responseHeaders().get("Retry-After"))));
  }

  void awaitRouting() {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> get("p-ready", "/api/game/players/p-ready").block().status() == 200);
  }

  @Test
  void past_the_pool_a_request_is_503_with_retry_after_and_the_held_ones_still_answer() {
    startGateway();
    awaitRouting();
    List<Answer> first = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 2; i++) {
      // The player itself (a player may read only their own state).
      open.add(get("held", "/api/game/players/held").subscribe(first::add));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> held.get() == 2);

    Answer refused = get("p-2", "/api/game/players/p-2").block(Duration.ofSeconds(10));
    assertThat(refused.status()).isEqualTo(503);
    assertThat(refused.retryAfter()).isEqualTo("1");

    release.tryEmitEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> first.size() == 2);
    assertThat(first).extracting(Answer::status).containsOnly(200);
  }

  @Test
  void open_websockets_take_no_place_in_the_pool() {
    startGateway();
    awaitRouting();
    List<String> heard = new CopyOnWriteArrayList<>();
    for (int i = 0; i < 3; i++) {
      String player = "s-" + i;
      open.add(
          client(player)
              .websocket()
              .uri("/ws")
              .handle((in, out) -> in.receive().asString().doOnNext(heard::add))
              .subscribe());
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> socketsOpen.get() == 3);
    assertThat(get("p-after", "/api/game/players/p-after").block(Duration.ofSeconds(10)).status())
        .isEqualTo(200);
  }
}
