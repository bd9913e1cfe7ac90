package dev.citadel.gateway.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.springframework.cloud.gateway.filter.ratelimit.RedisRateLimiter;
import org.springframework.cloud.gateway.support.ConfigurationService;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ClassPathResource;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.data.redis.core.script.DefaultRedisScript;
import org.springframework.data.redis.core.script.RedisScript;

/**
 * Spring Cloud Gateway's Redis token bucket, with its script read once. The gateway's own bean
 * reads the script through a resource that asks, on every request, whether the file changed: that
 * opens the jar entry per request (about 8 % of the gateway's CPU under load, in a JFR profile).
 * The same script from a string is hashed once and sent by its SHA as before.
 */
@Configuration(proxyBeanMethods = false)
public class RateLimiterConfiguration {
  /** Where Spring Cloud Gateway keeps the token bucket script, in its own jar. */
  static final String SCRIPT = "META-INF/scripts/request_rate_limiter.lua";

  @Bean
  RedisRateLimiter redisRateLimiter(
      ReactiveStringRedisTemplate redis, ConfigurationService configurationService) {
    return new RedisRateLimiter(redis, tokenBucketScript(), configurationService);
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  static RedisScript<List<Long>> tokenBucketScript() {
    try (InputStream in = new ClassPathResource(SCRIPT).getInputStream()) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      return (RedisScript<List<Long>>) (RedisScript) new DefaultRedisScript<>(text, List.class);
    } catch (IOException e) {
      throw new UncheckedIOException("the rate limiter's script " + SCRIPT + " is missing", e);
    }
  }
}
