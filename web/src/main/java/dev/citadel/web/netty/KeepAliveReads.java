package dev.citadel.web.netty;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import reactor.netty.http.server.HttpServer;

/**
 * Reads a kept-alive HTTP/1.1 connection again once every request read on it has been answered.
 * Reactor Netty's server reads on demand (auto-read off): each read must be asked for, and in 1.3.6
 * one path never asks (reactor-netty #4361, fixed by #4347; 1.3.8's bytecode has the fix, not yet
 * taken here): a request that arrives while the one before it is still finishing is buffered; if it
 * is then answered at once, the buffered end of it is drained without a read being asked for, and
 * the NEXT request on that connection is never read: the client waits forever, the server's event
 * loops sit idle, no timeout of ours starts (seen as CI's GameLoopIT sign-up with no answer for 30
 * s, behind a gateway whose threads were all idle). A read asked for when one is already pending is
 * harmless. Only when nothing read is left unanswered, though: asked after every response, a client
 * pipelining thousands of requests (a read of 64 KB holds some 1,800 small ones) had a read more
 * queued with each answer, without end, in a queue Reactor Netty does not bound, until the process
 * ran out of memory. Only HTTP/1.1 connections get it (no service here serves HTTP/2). Remove it
 * with the upgrade to a Reactor Netty that has the fix ({@code KeepAliveReadsTest} then says so).
 */
public final class KeepAliveReads extends ChannelDuplexHandler {
  static final String NAME = "citadel.keepAliveReads";

  /** Requests read on this connection and not yet answered (on its event loop only). */
  private int unanswered;

  /** The server with this handler right after the HTTP/1.1 codec of every connection. */
  public static HttpServer apply(HttpServer server) {
    return AfterHttpCodec.add(server, NAME, KeepAliveReads::new);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest) {
      unanswered++;
    }
    ctx.fireChannelRead(msg);
  }

  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
    if (msg instanceof LastHttpContent && !informational(msg)) {
      unanswered = Math.max(0, unanswered - 1);
      ChannelPromise written = promise.unvoid();
      written.addListener(
          done -> {
            Channel channel = ctx.channel();
            if (channel.isActive() && unanswered == 0) {
              // After the current event: Reactor Netty finishes the response's bookkeeping first.
              channel
                  .eventLoop()
                  .execute(
                      () -> {
                        if (unanswered == 0) {
                          channel.read();
                        }
                      });
            }
          });
      ctx.write(msg, written);
      return;
    }
    ctx.write(msg, promise);
  }

  /** A 1xx answer (100 Continue before a body is read) is not the request's answer. */
  private static boolean informational(Object msg) {
    return msg instanceof io.netty.handler.codec.http.HttpResponse r
        && r.status().codeClass() == io.netty.handler.codec.http.HttpStatusClass.INFORMATIONAL;
  }
}
