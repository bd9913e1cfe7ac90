package dev.citadel.gateway.identity;

import org.springframework.cloud.gateway.filter.headers.HttpHeadersFilter;
import org.springframework.core.Ordered;
import org.springframework.http.HttpHeaders;
import org.springframework.web.server.ServerWebExchange;

/**
 * Writes the client's address ({@link ForwardingFilter} resolved it) as the only {@code
 * X-Forwarded-For} of the request as it is sent on, after every other header filter: Spring Cloud
 * Gateway's {@code RemoveXForwardedHeadersFilter} (order 0, there whenever its X-Forwarded handling
 * is off) drops every {@code X-Forwarded-*} header on the way out. Until 2026-12-07 it dropped
 * ours, and member-service counted every log-in under the gateway's own address: five wrong
 * passwords through a gateway replica locked that nickname for everyone behind it.
 */
public final class ClientAddressHeader implements HttpHeadersFilter, Ordered {
  @Override
  public HttpHeaders filter(HttpHeaders input, ServerWebExchange exchange) {
    String client = exchange.getAttribute(ForwardingFilter.CLIENT_ADDRESS);
    if (client == null) {
      return input;
    }
    HttpHeaders out = new HttpHeaders();
    out.putAll(input);
    out.set("X-Forwarded-For", client);
    return out;
  }

  @Override
  public int getOrder() {
    return Ordered.LOWEST_PRECEDENCE;
  }
}
