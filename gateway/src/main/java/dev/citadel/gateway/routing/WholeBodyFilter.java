package dev.citadel.gateway.routing;

import dev.citadel.web.security.ClientAddress;
import dev.citadel.web.security.SecurityProblems;
import java.util.concurrent.TimeUnit;
import org.springframework.cloud.gateway.filter.GatewayFilterChain;
import org.springframework.cloud.gateway.filter.GlobalFilter;
import org.springframework.cloud.gateway.filter.NettyRoutingFilter;
import org.springframework.cloud.gateway.support.ServerWebExchangeUtils;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
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
 * slow client holds only its own connection and the bytes it sent (copied as they come into one
 * buffer: a network read's slice kept instead would hold its whole read buffer), and a service's
 * connection is held for as long as it takes to answer. Bodies are small (commands, sign-ups): past
 * {@code citadel.web.max-body-size} (the services' own limit) the answer is 413, before anything is
 * sent (before anything is read when the length says so). The body is kept as Spring Cloud
 * Gateway's cached body, which it releases when the exchange ends.
 *
 * <p>Bodies being read share a budget ({@code citadel.gateway.body-budget}, counted as their
 * buffers' capacity, and a share per client address): a slow sender now holds memory instead of a
 * pool place, and thousands of them, each sending most of 64 KB and then stalling, could otherwise
 * hold a gigabyte until the stall bound. Past the budget a request is a 503 with {@code
 * Retry-After}, at once. A body must also arrive whole within {@code citadel.gateway.body-deadline}
 * (30 s; 408 past it): the stall bound is between bytes, so a byte every few seconds kept a body's
 * share for as long as it went on.
 */
public final class WholeBodyFilter implements GlobalFilter, Ordered {
  /** The first allocation for a body; it grows as bytes come, never past the limit. */
  static final int FIRST_BYTES = 1024;

  /**
   * How much of a body past the limit is still read (and dropped) before the 413, as Tomcat's
   * {@code maxSwallowSize}: a connection closed with the client's bytes unread is reset, and the
   * client, still sending, may never read the answer.
   */
  static final int SWALLOW_BYTES = 2 * 1024 * 1024;

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(WholeBodyFilter.class);

  private final int maxBytes;
  private final BodyBudget budget;
  private final ClientAddress addresses;
  private final java.time.Duration deadline;

  public WholeBodyFilter(
      DataSize max,
      DataSize budget,
      DataSize perClient,
      java.time.Duration deadline,
      ClientAddress addresses) {
    this.maxBytes = (int) max.toBytes();
    this.deadline = deadline;
    this.budget = new BodyBudget(budget.toBytes(), perClient.toBytes());
    this.addresses = addresses;
    if (budget.toBytes() < max.toBytes() || perClient.toBytes() < max.toBytes()) {
      log.warn(
          "the body budget ({} in all, {} a client) is below the largest body ({}): such bodies"
              + " are always refused",
          budget,
          perClient,
          max);
    }
  }

  /** Bytes held by the bodies being read now (a gauge). */
  public long held() {
    return budget.held();
  }

  /** The body did not arrive whole within the deadline: 408. */
  static final class TooSlow extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooSlow() {
      super("the request body did not arrive in time", null, false, false);
    }
  }

  /** The bodies being read hold the whole budget: 503, try again. */
  static final class OverBudget extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OverBudget() {
      super("the bodies of requests being read hold the gateway's budget", null, false, false);
    }
  }

  @Override
  public int getOrder() {
    // Last before the proxy: after routing, the rate limiter and the instance's choice, so a
    // request refused by them is never read.
    return NettyRoutingFilter.ORDER - 1;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, GatewayFilterChain chain) {
    HttpHeaders headers = exchange.getRequest().getHeaders();
    if (!hasBody(headers) || UpgradeFilter.websocket(headers)) {
      return chain.filter(exchange);
    }
    long length = headers.getContentLength();
    if (length > maxBytes
        && (length > (long) maxBytes + SWALLOW_BYTES
            || "100-continue".equalsIgnoreCase(headers.getFirst(HttpHeaders.EXPECT)))) {
      // Nothing is read: the client waits for a 100 it will not get, or sends too much to swallow.
      return SecurityProblems.write(
          exchange.getResponse(),
          HttpStatus.CONTENT_TOO_LARGE,
          "the request body is too large",
          null);
    }
    DataBufferFactory buffers = exchange.getResponse().bufferFactory();
    String client = ClientAddress.bucket(addresses.of(exchange.getRequest()));
    // The body is whole here: the service is not asked to say it wants it.
    ServerHttpRequest request =
        exchange.getRequest().mutate().headers(h -> h.remove(HttpHeaders.EXPECT)).build();
    ServerHttpRequest readWhole =
        new ServerHttpRequestDecorator(request) {
          @Override
          public Flux<DataBuffer> getBody() {
            return whole(
                    super.getBody(),
                    buffers,
                    maxBytes,
                    length,
                    budget,
                    client,
                    deadline,
                    reactor.core.scheduler.Schedulers.parallel())
                .flux();
          }
        };
    return ServerWebExchangeUtils.cacheRequestBody(
            exchange.mutate().request(readWhole).build(),
            cached -> chain.filter(exchange.mutate().request(cached).build()))
        .onErrorResume(
            OverBudget.class,
            e ->
                SecurityProblems.write(
                    exchange.getResponse(),
                    HttpStatus.SERVICE_UNAVAILABLE,
                    "too many request bodies are being sent to the gateway; try again",
                    null))
        .onErrorResume(
            TooSlow.class,
            e ->
                SecurityProblems.write(
                    exchange.getResponse(),
                    HttpStatus.REQUEST_TIMEOUT,
                    "the request body did not arrive within " + deadline.toSeconds() + " s",
                    null));
  }

  /**
   * The body copied into one buffer as it comes, each part released at once; more than {@code max}
   * bytes: {@link DataBufferLimitException} (answered 413) once the body is over (read to its end
   * and dropped, up to {@link #SWALLOW_BYTES} more; past that at once). The buffer is released
   * unless handed on.
   *
   * <p>Read by a subscriber of its own ({@link BodyCopy}), with an empty Reactor context: the parts
   * are ours to release, once. Through operators (a {@code doOnNext} and a {@code then}), each part
   * was also dropped by {@code then} into the release hook that Spring Cloud Gateway's join of the
   * body puts in the context downstream: released twice, the second release took Reactor Netty's
   * own reference and its release failed ({@code IllegalReferenceCountException} in {@code
   * FluxReceive}).
   */
  static Mono<DataBuffer> whole(
      Flux<DataBuffer> body,
      DataBufferFactory buffers,
      int max,
      long declared,
      BodyBudget budget,
      String client,
      java.time.Duration deadline,
      reactor.core.scheduler.Scheduler timer) {
    return Mono.create(
        sink -> {
          // The declared length when there is one (the buffer then never grows), else 1 KB; one
          // byte for a body past the limit, whose bytes are only counted and dropped.
          boolean keep = declared <= max;
          int first =
              !keep ? 1 : declared > 0 ? (int) declared : Math.min(FIRST_BYTES, Math.max(1, max));
          if (!budget.take(client, first)) {
            // Not read at all: the server drops the unread body after the answer and closes the
            // connection (a client still sending may see it reset: overload, not its mistake).
            sink.error(new OverBudget());
            return;
          }
          BodyCopy copy;
          try {
            copy = new BodyCopy(sink, buffers, max, keep, first, budget, client);
          } catch (RuntimeException | Error e) {
            budget.give(client, first); // the buffer could not be had (out of direct memory)
            throw e;
          }
          // At the deadline the copy settles the buffer itself (released, never handed on) under
          // its lock: a timeout operator outside could drop a buffer handed on at the same moment.
          copy.alarm = timer.schedule(copy::tooSlow, deadline.toNanos(), TimeUnit.NANOSECONDS);
          sink.onDispose(copy);
          body.subscribe(copy);
        });
  }

  static DataBufferLimitException tooLarge(int max) {
    return new DataBufferLimitException("the request body is larger than " + max + " bytes");
  }

  /** A body follows the headers (HTTP/1.1: a length above zero, or chunks). */
  static boolean hasBody(HttpHeaders headers) {
    return headers.getContentLength() > 0 || headers.containsHeader(HttpHeaders.TRANSFER_ENCODING);
  }
}
