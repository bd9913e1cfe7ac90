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
  static final String HANDSHAKE_TIMEOUT = "citadel.handshakeTimeout";

  @Bean
  @Primary
  ReactorNettyWebSocketClient unpooledWebSocketClient(HttpClientProperties properties) {
    HttpClient sockets = HttpClient.create(ConnectionProvider.newConnection());
    if (properties.getConnectTimeout() != null) {
      sockets =
          sockets.option(ChannelOption.CONNECT_TIMEOUT_MILLIS, properties.getConnectTimeout());
    }
    // The handshake is bounded (the response timeout, 15 s): an instance that takes the connection
    // and never answers the upgrade (frozen, its node gone) held the player's socket, already
    // upgraded at the gateway, and this one for ever. Only the handshake: once it is answered the
    // bound goes, and a quiet socket stays open.
    java.time.Duration handshake =
        properties.getResponseTimeout() != null
            ? properties.getResponseTimeout()
            : java.time.Duration.ofSeconds(15);
    sockets =
        sockets
            .doOnConnected(
                connection ->
                    connection.addHandlerFirst(
                        HANDSHAKE_TIMEOUT,
                        new io.netty.handler.timeout.ReadTimeoutHandler(
                            handshake.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)))
            .doOnResponse((response, connection) -> connection.removeHandler(HANDSHAKE_TIMEOUT));
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
