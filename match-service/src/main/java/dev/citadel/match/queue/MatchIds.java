package dev.citadel.match.queue;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.random.RandomGenerator;

/**
 * Match ids that never repeat: the queue's name and a UUIDv7 (milliseconds since the epoch, then 74
 * random bits), made here rather than by a Redis counter, which starts again at 1 after Redis loses
 * its data and would hand a new match the id, room and players of an old one.
 */
final class MatchIds {
  private static final RandomGenerator RANDOM = new SecureRandom();

  private MatchIds() {}

  /** A new id for a match of {@code queue} formed at {@code nowMs}. */
  static String next(String queue, long nowMs) {
    return queue + "-" + uuidV7(nowMs, RANDOM);
  }

  /** RFC 9562 version 7. Pure but for {@code random}. */
  static UUID uuidV7(long nowMs, RandomGenerator random) {
    long msb = (nowMs & 0xFFFF_FFFF_FFFFL) << 16 | 0x7000L | (random.nextLong() & 0x0FFFL);
    long lsb = (random.nextLong() & 0x3FFF_FFFF_FFFF_FFFFL) | 0x8000_0000_0000_0000L;
    return new UUID(msb, lsb);
  }
}
