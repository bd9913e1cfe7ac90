package dev.citadel.gateway.config;

import dev.citadel.gateway.ratelimit.LeasedRateLimiter;
import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/**
 * The per-player rate limit: Spring Cloud Gateway's Redis token bucket, leased ({@link
 * LeasedRateLimiter}: a busy player's tokens are taken a few at a time instead of one Redis call a
 * request), with its script read once (the gateway's own bean read it through a resource that
 * opened the jar entry on every request: about 8 % of the gateway's CPU in a JFR profile).
 */
@Configuration(proxyBeanMethods = false)
public class RateLimiterConfiguration {
  @Bean
  RedisRateLimiter redisRateLimiter(
      ReactiveStringRedisTemplate redis,
      ConfigurationService configurationService,
      GatewayProperties props) {
    return new LeasedRateLimiter(
        redis,
        LeasedRateLimiter.script(),
        configurationService,
        props.rateLimit().maxLease(),
        props.rateLimit().leaseTime(),
        System::nanoTime);
  }
}
