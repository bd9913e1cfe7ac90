package dev.citadel.web.netty;

import io.netty.channel.ChannelHandler;
import java.util.function.Supplier;
import reactor.netty.NettyPipeline;
import reactor.netty.http.server.HttpServer;

/** A handler of ours right after the HTTP/1.1 codec of every connection a server accepts. */
final class AfterHttpCodec {
  private AfterHttpCodec() {}

  /** {@code server} with a new {@code handler} named {@code name} on each HTTP/1.1 connection. */
  static HttpServer add(HttpServer server, String name, Supplier<ChannelHandler> handler) {
    return server.doOnChannelInit(
        (observer, channel, remoteAddress) -> {
          if (channel.pipeline().get(NettyPipeline.HttpCodec) != null
              && channel.pipeline().get(name) == null) {
            channel.pipeline().addAfter(NettyPipeline.HttpCodec, name, handler.get());
          }
        });
  }
}
