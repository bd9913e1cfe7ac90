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
          java.time.Duration read) {
    return new ConnectionTimeoutsCustomizer(new ConnectionTimeouts(idle, read));
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
