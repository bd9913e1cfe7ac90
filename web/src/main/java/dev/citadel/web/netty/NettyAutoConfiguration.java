package dev.citadel.web.netty;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.context.annotation.Bean;

/** Every service's Netty server reads kept-alive connections again after each response. */
@AutoConfiguration
@ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
@ConditionalOnClass(NettyServerCustomizer.class)
public class NettyAutoConfiguration {
  @Bean
  KeepAliveReadsCustomizer keepAliveReads() {
    return new KeepAliveReadsCustomizer();
  }

  /** {@link KeepAliveReads} on the server Spring Boot starts. */
  public static final class KeepAliveReadsCustomizer implements NettyServerCustomizer {
    @Override
    public reactor.netty.http.server.HttpServer apply(reactor.netty.http.server.HttpServer server) {
      return KeepAliveReads.apply(server);
    }
  }
}
