package dev.citadel.web.netty;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import reactor.netty.http.server.HttpServer;

/**
 * Closes an HTTP/1.1 connection whose client stops sending a request's body: the server asked for
 * more of it and nothing came for the timeout. Only then: not while the application has not asked
 * (a request waiting its turn), not between requests (the server's idle timeout), never on a
 * WebSocket (after the upgrade no request is being read). Reactor Netty's own read and request
 * timeouts stay on an upgraded connection and closed every quiet WebSocket after them.
 */
final class BodyStallTimeout extends ChannelDuplexHandler {
  static final String NAME = "citadel.bodyStallTimeout";

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(BodyStallTimeout.class);

  private final long timeoutNanos;
  private final Runnable onStall;

  /** A request is read and its last part has not come yet (on the event loop only). */
  private boolean inBody;

  /** Counts reads asked for; a timer is for the read it was started with. */
  private long asked;

  private boolean waiting;
  private ScheduledFuture<?> timer;

  BodyStallTimeout(Duration timeout, Runnable onStall) {
    this.timeoutNanos = timeout.toNanos();
    this.onStall = onStall;
  }

  /**
   * The server with this handler right after the HTTP/1.1 codec of every connection; {@code
   * onStall} is told of each connection it closes (a metric: a slow or stalling client).
   */
  static HttpServer apply(HttpServer server, Duration timeout, Runnable onStall) {
    return AfterHttpCodec.add(server, NAME, () -> new BodyStallTimeout(timeout, onStall));
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    waiting = false;
    if (msg instanceof HttpRequest) {
      inBody = true;
    }
    if (msg instanceof LastHttpContent) {
      inBody = false;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void read(ChannelHandlerContext ctx) {
    if (inBody && !waiting) {
      waiting = true;
      long read = ++asked;
      cancel();
      timer =
          ctx.executor()
              .schedule(
                  () -> {
                    if (waiting && inBody && asked == read) {
                      // Debug only: a client that stalls on purpose would fill the log.
                      log.debug(
                          "closing {}: its request body stopped coming",
                          ctx.channel().remoteAddress());
                      try {
                        onStall.run();
                      } finally {
                        ctx.close();
                      }
                    }
                  },
                  timeoutNanos,
                  TimeUnit.NANOSECONDS);
    }
    ctx.read();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel();
    ctx.fireChannelInactive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
