package dev.citadel.gateway.routing;

import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.NettyRoutingFilter;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.HttpHeaders;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.util.unit.DataSize;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A request's body is read whole before the request is sent on. Spring Cloud Gateway streams it:
 * the connection to the service is taken from the bounded pool as the headers arrive and held while
 * the client sends the rest, so clients sending a byte now and then (each under the stall timeout)
 * could hold every place of a service's pool and make its routes 503 for everyone. Read first, a
 * slow client holds only its own connection, and a service's connection is held for as long as it
 * takes to answer. Bodies are small (commands, sign-ups); past {@code citadel.web.max-body-size}
 * (the services' own limit) the answer is 413, before anything is sent. The body is kept as Spring
 * Cloud Gateway's cached body, which it releases when the exchange ends.
 */
public final class WholeBodyFilter implements GlobalFilter, Ordered {
  private final int maxBytes;

  public WholeBodyFilter(DataSize max) {
    this.maxBytes = (int) max.toBytes();
  }

  @Override
  public int getOrder() {
    // Last before the proxy: after routing, the rate limiter and the instance's choice, so a
    // request refused by them is never read.
    return NettyRoutingFilter.ORDER - 1;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
    if (!hasBody(exchange.getRequest().getHeaders())) {
      return chain.filter(exchange);
    }
    ServerHttpRequest limited =
        new ServerHttpRequestDecorator(exchange.getRequest()) {
          @Override
          public Flux<DataBuffer> getBody() {
            // Too large: DataBufferLimitException, answered 413 (Problems), buffers released.
            return DataBufferUtils.join(super.getBody(), maxBytes).flux();
          }
        };
    return ServerWebExchangeUtils.cacheRequestBody(
        exchange.mutate().request(limited).build(),
        whole -> chain.filter(exchange.mutate().request(whole).build()));
  }

  /** A body follows the headers (HTTP/1.1: a length above zero, or chunks). */
  static boolean hasBody(HttpHeaders headers) {
    return headers.getContentLength() > 0 || headers.containsHeader(HttpHeaders.TRANSFER_ENCODING);
  }
}
