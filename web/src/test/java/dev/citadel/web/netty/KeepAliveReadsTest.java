package dev.citadel.web.netty;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * A kept-alive connection keeps answering after a request that arrived while the one before was
 * still finishing and was then answered at once (reactor-netty #4361: the server stopped reading
 * the connection, and the next request on it got no answer, ever).
 */
class KeepAliveReadsTest {

  static DisposableServer server(UnaryOperator<HttpServer> customize) {
    return customize
        .apply(HttpServer.create().host("127.0.0.1").port(0))
        .handle(
            (request, response) ->
                response.sendString(
                    request.uri().equals("/first")
                        ? Mono.delay(Duration.ofMillis(50)).thenReturn("ok")
                        : Mono.just("ok")))
        .bindNow(Duration.ofSeconds(5));
  }

  static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  }

  /** Answers to the two pipelined requests, then to the one sent after them (each within 2 s). */
  record Answers(int firstTwo, int third) {}

  static Answers answers(int port) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(2000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      // The second request arrives while the first is still being answered (pipelined).
      out.write((get("/first") + get("/second")).getBytes(StandardCharsets.US_ASCII));
      out.flush();
      int firstTwo = read(in, 2);
      out.write(get("/third").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new Answers(firstTwo, read(in, 1));
    }
  }

  /** Reads until {@code n} more status lines came; fewer if the server goes quiet for 2 s. */
  static int read(InputStream in, int n) throws IOException {
    ByteArrayOutputStream got = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    try {
      while (count(got.toString(StandardCharsets.US_ASCII), "HTTP/1.1 200") < n) {
        int r = in.read(buf);
        if (r < 0) {
          break;
        }
        got.write(buf, 0, r);
      }
    } catch (SocketTimeoutException quiet) {
      // the server stopped answering this connection
    }
    return count(got.toString(StandardCharsets.US_ASCII), "HTTP/1.1 200");
  }

  static int count(String s, String what) {
    int c = 0;
    for (int i = s.indexOf(what); i >= 0; i = s.indexOf(what, i + 1)) {
      c++;
    }
    return c;
  }

  @Test
  void the_request_after_a_pipelined_one_is_answered() throws IOException {
    DisposableServer server = server(KeepAliveReads::apply);
    try {
      assertThat(answers(server.port())).isEqualTo(new Answers(2, 1));
    } finally {
      server.disposeNow();
    }
  }

  /**
   * A read is asked for once every request read has been answered, not after each answer: asked
   * after each, a client pipelining thousands of requests had another read (some 1,800 more small
   * requests) queued with every answer, in a queue without bound, until memory ran out.
   */
  @Test
  void a_read_is_asked_for_only_once_every_request_read_is_answered() {
    java.util.concurrent.atomic.AtomicInteger reads =
        new java.util.concurrent.atomic.AtomicInteger();
    io.netty.channel.embedded.EmbeddedChannel channel =
        new io.netty.channel.embedded.EmbeddedChannel(
            new io.netty.channel.ChannelOutboundHandlerAdapter() {
              @Override
              public void read(io.netty.channel.ChannelHandlerContext ctx) {
                reads.incrementAndGet();
                ctx.read();
              }
            },
            new KeepAliveReads());
    channel.config().setAutoRead(false);
    int before = reads.get();
    for (int i = 0; i < 3; i++) {
      channel.writeInbound(
          new io.netty.handler.codec.http.DefaultHttpRequest(
              io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
              io.netty.handler.codec.http.HttpMethod.GET,
              "/" + i));
    }
    for (int answered = 1; answered <= 3; answered++) {
      channel.writeOutbound(
          new io.netty.handler.codec.http.DefaultFullHttpResponse(
              io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
              io.netty.handler.codec.http.HttpResponseStatus.OK));
      channel.runPendingTasks();
      assertThat(reads.get() - before)
          .as("reads asked for after %d of 3 answers", answered)
          .isEqualTo(answered == 3 ? 1 : 0);
    }
    // A 100 Continue before a body is read answers nothing: still one request waiting.
    channel.writeInbound(
        new io.netty.handler.codec.http.DefaultHttpRequest(
            io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
            io.netty.handler.codec.http.HttpMethod.POST,
            "/with-body"));
    channel.writeOutbound(
        new io.netty.handler.codec.http.DefaultFullHttpResponse(
            io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
            io.netty.handler.codec.http.HttpResponseStatus.CONTINUE));
    channel.runPendingTasks();
    assertThat(reads.get() - before).as("no read for a 100 Continue").isEqualTo(1);
    channel.finishAndReleaseAll();
  }

  @Test
  void without_it_reactor_netty_stops_reading_the_connection() throws IOException {
    DisposableServer server = server(s -> s);
    try {
      Answers answers = answers(server.port());
      assertThat(answers.firstTwo()).as("the pipelined two").isEqualTo(2);
      assertThat(answers.third())
          .as(
              "the request after them: answered means Reactor Netty has the fix (drop KeepAliveReads)")
          .isZero();
    } finally {
      server.disposeNow();
    }
  }
}
