package dev.citadel.web.netty;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.context.annotation.Bean;

/**
 * Every service's Netty server reads kept-alive connections again after each response and closes
 * connections that hold it without a request ({@link ConnectionTimeouts}; {@code
 * citadel.http.idle-timeout}, {@code citadel.http.read-timeout}).
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@ConditionalOnClass(NettyServerCustomizer.class)
public class NettyAutoConfiguration {
  @Bean
  KeepAliveReadsCustomizer keepAliveReads() {
    return new KeepAliveReadsCustomizer();
  }

  @Bean
  ConnectionTimeoutsCustomizer connectionTimeouts(
      @org.springframework.beans.factory.annotation.Value("${citadel.http.idle-timeout:75s}")
          java.time.Duration idle,
      @org.springframework.beans.factory.annotation.Value("${citadel.http.read-timeout:20s}")
          java.time.Duration read,
      org.springframework.beans.factory.ObjectProvider<io.micrometer.core.instrument.MeterRegistry>
          meters) {
    Runnable onStall = () -> {};
    io.micrometer.core.instrument.MeterRegistry registry = meters.getIfAvailable();
    if (registry != null) {
      // Until 2026-12-08 such closes left no trace: a client population that stalls (a bad
      // network, a slow-body attack) could not be told from one that never came.
      onStall =
          io.micrometer.core.instrument.Counter.builder("citadel_http_body_stalls")
                  .description("Connections closed because a request's body stopped coming")
                  .register(registry)
              ::increment;
    }
    return new ConnectionTimeoutsCustomizer(new ConnectionTimeouts(idle, read, onStall));
  }

  /** {@link ConnectionTimeouts} on the server Spring Boot starts. */
  public record ConnectionTimeoutsCustomizer(ConnectionTimeouts timeouts)
      implements NettyServerCustomizer {
    @Override
    public reactor.netty.http.server.HttpServer apply(reactor.netty.http.server.HttpServer server) {
      return timeouts.apply(server);
    }
  }

  /** {@link KeepAliveReads} on the server Spring Boot starts. */
  public static final class KeepAliveReadsCustomizer implements NettyServerCustomizer {
    @Override
    public reactor.netty.http.server.HttpServer apply(reactor.netty.http.server.HttpServer server) {
      return KeepAliveReads.apply(server);
    }
  }
}
