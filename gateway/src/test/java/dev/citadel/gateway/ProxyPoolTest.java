package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
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
  final AtomicInteger posted = new AtomicInteger();

  /** Requests with a body that reached the gateway's last filters (just before it reads bodies). */
  final AtomicInteger bodiesAtProxy = new AtomicInteger();

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
                      .post(
                          "/api/game/players/{id}/commands",
                          (request, response) -> {
                            posted.incrementAndGet();
                            // The body as it came, so the client can see it arrived whole.
                            return request
                                .receive()
                                .aggregate()
                                .asString()
                                .flatMap(
                                    b ->
                                        response
                                            .header("Content-Length", Integer.toString(b.length()))
                                            .sendString(Mono.just(b))
                                            .then());
                          })
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

  void startGateway(String... more) {
    List<String> args =
        TestGateways.args(
            "http://127.0.0.1:" + instance.port(),
            "--citadel.gateway.game-state.health-interval=200ms",
            "--spring.cloud.gateway.server.webflux.httpclient.pool.max-connections=2",
            "--spring.cloud.gateway.server.webflux.httpclient.pool.acquire-timeout=300");
    args.addAll(List.of(more));
    gateway =
        new SpringApplicationBuilder(GatewayApplication.class)
            .initializers(
                context ->
                    context
                        .getBeanFactory()
                        .registerSingleton("bodiesAtProxy", new CountBodies(bodiesAtProxy)))
            .run(args.toArray(String[]::new));
  }

  HttpClient client(String player) {
    return HttpClient.create()
        .baseUrl("http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port"))
        .headers(h -> h.set("Authorization", "Bearer " + TestIdentity.shared().player(player)));
  }

  /** Counts requests with a body as they come to the last filters before the proxy. */
  record CountBodies(AtomicInteger count)
      implements org.springframework.cloud.gateway.filter.GlobalFilter,
          org.springframework.core.Ordered {
    @Override
    public Mono<Void> filter(
        org.springframework.web.server.ServerWebExchange exchange,
        org.springframework.cloud.gateway.filter.GatewayFilterChain chain) {
      if (exchange.getRequest().getHeaders().getContentLength() > 0) {
        count.incrementAndGet();
      }
      return chain.filter(exchange);
    }

    @Override
    public int getOrder() {
      return org.springframework.cloud.gateway.filter.NettyRoutingFilter.ORDER - 2;
    }
  }

  /** Reads one HTTP/1.1 answer with a Content-Length: its status line and body. */
  /** A command's body as the slow senders below send it (27 bytes). */
  static final String COMMAND = "{\"type\":\"grant\",\"amount\":5}";

  /**
   * A socket to the gateway that sent a player's command with {@code headers} (each ending "\r\n")
   * and the first {@code sent} bytes of its body, then nothing more yet.
   */
  java.net.Socket startPost(String player, String headers, String body, int sent)
      throws java.io.IOException {
    int port = Integer.parseInt(gateway.getEnvironment().getProperty("local.server.port"));
    java.net.Socket socket = new java.net.Socket("127.0.0.1", port);
    String head =
        "POST /api/game/players/"
            + player
            + "/commands HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
            + TestIdentity.shared().player(player)
            + "\r\nContent-Type: application/json\r\n"
            + headers
            + "\r\n"
            + body.substring(0, sent);
    socket.getOutputStream().write(head.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    socket.getOutputStream().flush();
    return socket;
  }

  static String[] readAnswer(java.io.InputStream in) throws java.io.IOException {
    java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
    while (!head.toString(java.nio.charset.StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new java.io.EOFException("closed within the headers: " + head);
      }
      head.write(b);
    }
    String headers = head.toString(java.nio.charset.StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher length =
        java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(headers);
    int n = length.find() ? Integer.parseInt(length.group(1)) : 0;
    String body = new String(in.readNBytes(n), java.nio.charset.StandardCharsets.UTF_8);
    return new String[] {headers.substring(0, headers.indexOf("\r\n")), body, headers};
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

  /**
   * Clients that send their body slowly (each byte under the stall timeout) hold no place in the
   * pool: the gateway reads a body whole before it takes a connection to the service. Before, two
   * such clients held both places (the service was waiting for their bodies) and everyone else's
   * requests to that service were 503.
   */
  @Test
  void clients_sending_their_body_slowly_hold_no_place_in_the_pool() throws Exception {
    startGateway();
    awaitRouting();
    String body = COMMAND;
    List<java.net.Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        slow.add(
            startPost(
                "slow-" + i,
                "Content-Length: "
                    + body.length()
                    + "\r\n"
                    // An upgrade other than WebSocket (curl --http2 asks for h2c) is answered as
                    // HTTP/1.1: its body is read whole like any other.
                    + (i == 2 ? "Connection: Upgrade\r\nUpgrade: h2c\r\n" : ""),
                body,
                5));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> bodiesAtProxy.get() == 3);
      // Everyone else is served meanwhile (with 3 streaming bodies in a pool of 2: 503).
      for (int i = 0; i < 3; i++) {
        assertThat(get("p-" + i, "/api/game/players/p-" + i).block(Duration.ofSeconds(10)).status())
            .isEqualTo(200);
      }
      assertThat(posted.get()).as("nothing sent on before its body was whole").isZero();

      // The rest of one body: sent on whole, answered.
      java.net.Socket first = slow.get(0);
      first
          .getOutputStream()
          .write(body.substring(5).getBytes(java.nio.charset.StandardCharsets.UTF_8));
      first.getOutputStream().flush();
      first.setSoTimeout(10_000);
      String[] answer = readAnswer(first.getInputStream());
      assertThat(answer[0]).startsWith("HTTP/1.1 200");
      assertThat(answer[1]).isEqualTo(body);
    } finally {
      for (java.net.Socket socket : slow) {
        socket.close();
      }
    }
  }

  /** Bodies being read share a budget: past it a request with a body is 503 at once. */
  @Test
  void past_the_body_budget_a_request_is_503_with_retry_after() throws Exception {
    // Two bodies of 27 bytes (their declared length) fit, a third does not.
    startGateway("--citadel.gateway.body-budget=60B");
    awaitRouting();
    String body = COMMAND;
    List<java.net.Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        slow.add(startPost("budget-" + i, "Content-Length: " + body.length() + "\r\n", body, 5));
        if (i < 2) {
          long held = (long) body.length() * (i + 1);
          await()
              .atMost(Duration.ofSeconds(10))
              .until(
                  () ->
                      gateway.getBean(dev.citadel.gateway.routing.WholeBodyFilter.class).held()
                          == held);
        }
      }
      java.net.Socket refused = slow.get(2);
      refused.setSoTimeout(10_000);
      String[] answer = readAnswer(refused.getInputStream());
      assertThat(answer[0]).startsWith("HTTP/1.1 503");
      assertThat(answer[2]).containsIgnoringCase("retry-after: 1");
      assertThat(answer[1]).contains("request bodies");
      // Requests without a body are not held back.
      assertThat(get("p-0", "/api/game/players/p-0").block(Duration.ofSeconds(10)).status())
          .isEqualTo(200);
      assertThat(posted.get()).isZero();
    } finally {
      for (java.net.Socket socket : slow) {
        socket.close();
      }
    }
    // The clients gone, what their bodies held is given back.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> gateway.getBean(dev.citadel.gateway.routing.WholeBodyFilter.class).held() == 0);
  }

  /** A body must arrive whole within its deadline, however steadily it trickles: 408 past it. */
  @Test
  void a_body_that_does_not_arrive_within_its_deadline_is_408() throws Exception {
    startGateway("--citadel.gateway.body-deadline=2s");
    awaitRouting();
    String body = COMMAND;
    try (java.net.Socket socket =
        startPost("trickle", "Content-Length: " + body.length() + "\r\n", body, 0)) {
      socket.setSoTimeout(20_000);
      // A byte every half second (well within the 20 s stall bound), never the last one.
      java.util.concurrent.atomic.AtomicInteger sent =
          new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.ScheduledExecutorService trickle =
          java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
      String[] answer;
      try {
        trickle.scheduleAtFixedRate(
            () -> {
              int i = sent.getAndIncrement();
              if (i < body.length() - 1) {
                try {
                  socket.getOutputStream().write(body.charAt(i));
                  socket.getOutputStream().flush();
                } catch (java.io.IOException e) {
                  // the gateway closed the connection after its answer
                }
              }
            },
            0,
            500,
            java.util.concurrent.TimeUnit.MILLISECONDS);
        answer = readAnswer(socket.getInputStream());
      } finally {
        trickle.shutdownNow();
      }
      assertThat(answer[0]).startsWith("HTTP/1.1 408");
      assertThat(answer[1]).contains("did not arrive within 2 s");
    }
    assertThat(posted.get()).isZero();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> gateway.getBean(dev.citadel.gateway.routing.WholeBodyFilter.class).held() == 0);
  }

  /** Past the limit: 413 with a problem, nothing sent on; said before reading, when it can be. */
  @Test
  void a_body_over_the_limit_is_413_and_never_sent_on() throws Exception {
    startGateway();
    awaitRouting();
    byte[] large = new byte[65 * 1024];
    java.util.Arrays.fill(large, (byte) 'a');
    // Chunked, so only reading finds it too large.
    List<String> answer =
        client("big")
            .headers(h -> h.set("Content-Type", "application/json"))
            .post()
            .uri("/api/game/players/big/commands")
            .send(reactor.core.publisher.Flux.just(io.netty.buffer.Unpooled.wrappedBuffer(large)))
            .responseSingle(
                (response, b) ->
                    Mono.just(
                        List.of(
                            Integer.toString(response.status().code()),
                            String.valueOf(response.responseHeaders().get("Content-Type")))))
            .block(Duration.ofSeconds(10));
    assertThat(answer).containsExactly("413", "application/problem+json");

    // A length over the limit, and the client waiting to be told to send: answered at once.
    try (java.net.Socket socket =
        startPost("big", "Expect: 100-continue\r\nContent-Length: 100000\r\n", "", 0)) {
      socket.setSoTimeout(10_000);
      String[] refused = readAnswer(socket.getInputStream());
      assertThat(refused[0]).startsWith("HTTP/1.1 413");
      assertThat(refused[2]).containsIgnoringCase("content-type: application/problem+json");
      assertThat(refused[1]).contains("too large");
    }
    assertThat(posted.get()).isZero();
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
