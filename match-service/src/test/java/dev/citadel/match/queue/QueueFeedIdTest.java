package dev.citadel.match.queue;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The stream id right after another (pure): where "the changes after an entry" start. */
class QueueFeedIdTest {
  @Test
  void the_next_id_counts_the_sequence_unsigned_and_carries_into_the_next_millisecond() {
    assertThat(QueueFeed.nextId("0-0")).isEqualTo("0-1");
    assertThat(QueueFeed.nextId("1700000000000-41")).isEqualTo("1700000000000-42");
    assertThat(QueueFeed.nextId("1700000000000-9223372036854775807"))
        .isEqualTo("1700000000000-9223372036854775808");
    assertThat(QueueFeed.nextId("1700000000000-18446744073709551615")).isEqualTo("1700000000001-0");
  }
}
