package dev.citadel.web.netty;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Pooled client connections idle for 30 s are closed by the client, unless the JVM was started with
 * its own {@code reactor.netty.pool.maxIdleTime}. Every service's server closes a connection idle
 * for 75 s ({@link ConnectionTimeouts}); Reactor Netty's default pool (every {@code WebClient}
 * between services: two-phase commit, rating reads, token and key fetches) keeps idle connections
 * for ever and lends the longest idle first, so a request could go out on a connection the server
 * was closing that moment and fail after it was sent. Set before any client exists: Reactor Netty
 * reads the property once, when its pools are first used.
 */
public final class ClientPoolDefaults implements EnvironmentPostProcessor {
  static final String MAX_IDLE_TIME = reactor.netty.ReactorNetty.POOL_MAX_IDLE_TIME;
  static final String MAX_IDLE_MILLIS = "30000";

  @Override
  public void postProcessEnvironment(
      ConfigurableEnvironment environment, SpringApplication application) {
    apply();
  }

  static void apply() {
    if (System.getProperty(MAX_IDLE_TIME) == null) {
      System.setProperty(MAX_IDLE_TIME, MAX_IDLE_MILLIS);
    }
  }
}
