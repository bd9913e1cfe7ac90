package dev.citadel.match.queue;

import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import java.time.Duration;

/**
 * Redis command timeouts for match-service: a queue read whole ({@code HGETALL}, the matcher's copy
 * at first and after a gap: 2.7-4.5 s at a million waiting) may take {@code wholeRead}; every other
 * command the connection's timeout ({@code spring.data.redis.timeout}), so a join or a cancel on a
 * stalled Redis is refused (503) long before the gateway gives up on it.
 */
public final class WholeReadTimeout extends TimeoutOptions.TimeoutSource {
  private final long commandMillis;
  private final long wholeReadMillis;

  /**
   * Both explicit: with a source of its own, Lettuce's fallback for a command is not Spring's
   * configured timeout but the connection's default (a minute).
   */
  public WholeReadTimeout(Duration command, Duration wholeRead) {
    this.commandMillis = command.toMillis();
    this.wholeReadMillis = wholeRead.toMillis();
  }

  /** Command timeouts on, from this source. */
  public TimeoutOptions options() {
    return TimeoutOptions.builder().timeoutCommands(true).timeoutSource(this).build();
  }

  @Override
  public long getTimeout(RedisCommand<?, ?, ?> command) {
    return command.getType() == CommandType.HGETALL ? wholeReadMillis : commandMillis;
  }
}
