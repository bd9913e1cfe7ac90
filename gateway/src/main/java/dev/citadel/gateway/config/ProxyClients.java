package dev.citadel.gateway.config;

import io.netty.channel.ChannelOption;
import org.springframework.cloud.gateway.config.HttpClientProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Primary;
import org.springframework.web.reactive.socket.client.ReactorNettyWebSocketClient;
import reactor.netty.http.client.HttpClient;
import reactor.netty.http.client.WebsocketClientSpec;
import reactor.netty.resources.ConnectionProvider;

/**
 * The proxy's connections to the services are a bounded pool (application.yml: a fixed number per
 * address a route names; a request that finds none free within the acquire timeout is a 503, {@code
 * Problems}), so a flood of clients cannot open sockets to a service without end. Proxied
 * WebSockets do not take places in it: each holds its connection for as long as the player stays
 * connected, and a few thousand open sockets would leave no place for any request. They get a
 * connection of their own each, outside any pool (Spring Cloud Gateway's own WebSocket client
 * shares the proxy's pool); how many one player may hold is bounded by game-state. What Spring
 * Cloud Gateway's client factory would add (proxy, TLS trust settings, wiretap, compression, its
 * customizers) is not configured here today; a {@code wss://} instance would need its TLS settings
 * here too.
 */
@Configuration(proxyBeanMethods = false)
class ProxyClients {
  @Bean
  @Primary
  ReactorNettyWebSocketClient unpooledWebSocketClient(HttpClientProperties properties) {
    HttpClient sockets = HttpClient.create(ConnectionProvider.newConnection());
    if (properties.getConnectTimeout() != null) {
      sockets =
          sockets.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, properties.getConnectTimeout());
    }
    HttpClientProperties.Websocket spec = properties.getWebsocket();
    return new ReactorNettyWebSocketClient(
        sockets,
        () -> {
          WebsocketClientSpec.Builder builder =
              WebsocketClientSpec.builder().handlePing(spec.isProxyPing());
          if (spec.getMaxFramePayloadLength() != null) {
            builder.maxFramePayloadLength(spec.getMaxFramePayloadLength());
          }
          return builder;
        });
  }
}
