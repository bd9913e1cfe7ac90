package dev.citadel.web.netty;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import reactor.netty.http.server.HttpServer;

/**
 * Closes a WebSocket connection that has not gone within the timeout of the server sending its
 * close frame. The frame waits behind whatever the client has not read: a client that stops reading
 * never takes it, and the connection stayed open for good (each such socket a file and its buffers;
 * a player replacing sockets without reading them could hold any number). Only the frame going out
 * starts the clock; the connection's life before it is the application's.
 */
final class CloseFrameDeadline extends ChannelOutboundHandlerAdapter {
  static final String NAME = "citadel.closeFrameDeadline";

  private final long timeoutNanos;
  private ScheduledFuture<?> timer;

  CloseFrameDeadline(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
  }

  /** The server with this handler right after the HTTP/1.1 codec (the WebSocket codec's place). */
  static HttpServer apply(HttpServer server, Duration timeout) {
    return AfterHttpCodec.add(server, NAME, () -> new CloseFrameDeadline(timeout));
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof CloseWebSocketFrame && timer == null) {
      timer =
          ctx.executor().schedule(() -> ctx.channel().close(), timeoutNanos, TimeUnit.NANOSECONDS);
      ctx.channel().closeFuture().addListener(f -> timer.cancel(false));
    }
    ctx.write(msg, promise);
  }
}
