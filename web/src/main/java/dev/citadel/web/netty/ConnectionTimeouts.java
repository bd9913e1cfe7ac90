package dev.citadel.web.netty;

import java.time.Duration;
import reactor.netty.http.server.HttpServer;

/**
 * How long a connection may hold a server's socket without a request coming in. Reactor Netty's
 * server has no timeout unless one is set: a client that connected and sent nothing, or sent half
 * its headers, or stopped half way through a body, kept its socket (and its buffers) for as long as
 * it stayed connected, so a few thousand such clients filled the process's file descriptors.
 *
 * <ul>
 *   <li>{@code idle}: a connection with no request under way (new, or kept alive after an answer),
 *       or still sending its request's headers, is closed after this. Longer than the idle time of
 *       every pool in front of a service (the gateway's routes 20 s, the services' own clients 30
 *       s: {@link ClientPoolDefaults}; an ingress keeps upstream connections up to 60 s), so a pool
 *       never sends a request on a connection the server is closing.
 *   <li>{@code read}: a request whose body stops coming for this long is closed ({@link
 *       BodyStallTimeout}), and so is a WebSocket this long after the server sent its close frame
 *       ({@link CloseFrameDeadline}: a client that does not read never takes it).
 * </ul>
 *
 * A WebSocket, once upgraded, is bounded by neither until then (it lives until its token expires).
 */
public record ConnectionTimeouts(Duration idle, Duration read, Runnable onStall) {
  public ConnectionTimeouts {
    if (idle.isNegative() || idle.isZero() || read.isNegative() || read.isZero()) {
      throw new IllegalArgumentException("timeouts must be positive: " + idle + ", " + read);
    }
  }

  /** {@code onStall} runs (on the connection's event loop) for each connection closed so. */
  public HttpServer apply(HttpServer server) {
    return CloseFrameDeadline.apply(
        BodyStallTimeout.apply(server.idleTimeout(idle), read, onStall), read);
  }
}
