package dev.citadel.web.netty;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.server.HttpServer;

/** Connections that hold a server without a request under way are closed; a WebSocket is not. */
class ConnectionTimeoutsTest {
  final java.util.concurrent.atomic.AtomicInteger stalls =
      new java.util.concurrent.atomic.AtomicInteger();
  final java.util.concurrent.CountDownLatch floodClosed =
      new java.util.concurrent.CountDownLatch(1);
  final ConnectionTimeouts SHORT =
      new ConnectionTimeouts(
          Duration.ofMillis(300), Duration.ofMillis(300), stalls::incrementAndGet);

  final DisposableServer server =
      SHORT
          .apply(HttpServer.create().host("127.0.0.1").port(0))
          .route(
              routes ->
                  routes
                      .post(
                          "/echo",
                          (request, response) ->
                              response.sendString(request.receive().aggregate().asString()))
                      .post(
                          "/late",
                          // Asks for the body only after longer than the bound: a request
                          // waiting its turn, not a client that stalled.
                          (request, response) ->
                              response.sendString(
                                  Mono.delay(Duration.ofMillis(1_000))
                                      .then(request.receive().aggregate().asString())
                                      .map(body -> Integer.toString(body.length()))))
                      .get("/", (request, response) -> response.sendString(Mono.just("ok")))
                      .ws(
                          "/flood",
                          // Sends more than a client that does not read can take, and closes
                          // after a second: the close frame waits behind the unread data.
                          (in, out) -> {
                            in.withConnection(
                                c ->
                                    c.channel()
                                        .closeFuture()
                                        .addListener(f -> floodClosed.countDown()));
                            return Mono.when(
                                out.sendString(
                                        reactor.core.publisher.Flux.range(0, 1 << 16)
                                            .map(i -> "x".repeat(1024)))
                                    .then(),
                                Mono.delay(Duration.ofSeconds(1)).then(out.sendClose()));
                          })
                      .ws(
                          "/ws",
                          // Says hello after longer than the idle bound, so only an open socket
                          // hears it.
                          (in, out) ->
                              out.sendString(
                                      Mono.delay(Duration.ofMillis(1_000)).thenReturn("hello"))
                                  .then(in.receive().then())))
          .bindNow(Duration.ofSeconds(5));

  @AfterEach
  void stop() {
    server.disposeNow();
  }

  /** True if the server closes the connection within 10 s (what it sent before is skipped). */
  static boolean closedByServer(Socket socket) throws IOException {
    socket.setSoTimeout(10_000);
    InputStream in = socket.getInputStream();
    byte[] buf = new byte[4096];
    try {
      while (true) {
        if (in.read(buf) < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException stillOpen) {
      return false;
    } catch (java.net.SocketException reset) {
      return true;
    }
  }

  Socket connect() throws IOException {
    return new Socket("127.0.0.1", server.port());
  }

  static void send(Socket socket, String text) throws IOException {
    socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
    socket.getOutputStream().flush();
  }

  @Test
  void a_connection_that_sends_nothing_is_closed() throws IOException {
    try (Socket socket = connect()) {
      assertThat(closedByServer(socket)).isTrue();
    }
    assertThat(stalls).as("idle, not a stalled body").hasValue(0);
  }

  @Test
  void a_connection_that_stops_half_way_through_its_headers_is_closed() throws IOException {
    try (Socket socket = connect()) {
      send(socket, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
      assertThat(closedByServer(socket)).isTrue();
    }
  }

  @Test
  void a_connection_whose_body_stops_coming_is_closed() throws IOException {
    try (Socket socket = connect()) {
      send(socket, "POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nabc");
      assertThat(closedByServer(socket)).isTrue();
    }
    assertThat(stalls).as("counted").hasValue(1);
  }

  @Test
  void a_body_the_application_reads_late_is_not_cut_off() {
    String body = "x".repeat(1 << 20);
    String answer =
        HttpClient.create()
            .post()
            .uri("http://127.0.0.1:" + server.port() + "/late")
            .send(reactor.netty.ByteBufFlux.fromString(Mono.just(body)))
            .responseSingle((response, content) -> content.asString())
            .block(Duration.ofSeconds(10));
    assertThat(answer).isEqualTo(Integer.toString(body.length()));
  }

  @Test
  void a_kept_alive_connection_is_closed_once_idle_after_its_answer() throws IOException {
    try (Socket socket = connect()) {
      send(socket, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      byte[] head = new byte[12];
      socket.setSoTimeout(10_000);
      int read = socket.getInputStream().readNBytes(head, 0, head.length);
      assertThat(new String(head, 0, read, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 200");
      assertThat(closedByServer(socket)).isTrue();
    }
  }

  @Test
  void a_websocket_outlives_the_idle_bound() {
    List<String> heard = new CopyOnWriteArrayList<>();
    Disposable client =
        HttpClient.create()
            .websocket()
            .uri("ws://127.0.0.1:" + server.port() + "/ws")
            .handle((in, out) -> in.receive().asString().doOnNext(heard::add))
            .subscribe();
    try {
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("hello"));
    } finally {
      client.dispose();
    }
  }

  /**
   * A WebSocket client that stops reading never takes the server's close frame (it waits behind the
   * data the client has not read): the connection is closed the read bound after the frame was
   * sent, not kept for good.
   */
  @Test
  void a_websocket_whose_client_does_not_read_is_closed_after_its_close_frame() throws Exception {
    try (Socket socket = new Socket()) {
      socket.setReceiveBufferSize(4096);
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", server.port()), 5_000);
      send(
          socket,
          "GET /flood HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
      // Nothing is read here until the server has closed its side.
      assertThat(floodClosed.await(10, java.util.concurrent.TimeUnit.SECONDS))
          .as("the server closed the connection")
          .isTrue();
    }
  }
}
