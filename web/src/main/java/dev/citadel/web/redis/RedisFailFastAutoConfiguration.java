package dev.citadel.web.redis;

import io.lettuce.core.ClientOptions;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.data.redis.autoconfigure.LettuceClientOptionsBuilderCustomizer;
import org.springframework.context.annotation.Bean;

/**
 * Every service's Redis client refuses a command at once while its connection is down, instead of
 * Lettuce's default: keeping it in an unbounded buffer until the connection is back or the command
 * times out (1-5 s, {@code spring.data.redis.timeout}). A request that needs Redis while it is away
 * then gets its 503 (or its fallback: the gateway's local rate limit) at once, and nothing piles up
 * in memory meanwhile. Commands already sent when the connection drops are not affected.
 */
@AutoConfiguration
@ConditionalOnClass({LettuceClientOptionsBuilderCustomizer.class, ClientOptions.class})
public class RedisFailFastAutoConfiguration {
  @Bean
  LettuceClientOptionsBuilderCustomizer rejectCommandsWhileDisconnected() {
    return options ->
        options.disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
  }
}
