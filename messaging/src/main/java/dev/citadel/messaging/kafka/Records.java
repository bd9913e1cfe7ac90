package dev.citadel.messaging.kafka;

import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.OutgoingMessage;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import reactor.kafka.receiver.ReceiverRecord;

/** What a consumer makes of a received record before any handler sees it. */
final class Records {
  private Records() {}

  /**
   * Why a record can never reach a handler, or null. Every message we publish has a key and a value
   * ({@link OutgoingMessage}); a record without one (a tombstone, another producer's mistake) is
   * dead-lettered as it is.
   */
  static String malformed(ReceiverRecord<String, byte[]> r) {
    if (r.value() == null) {
      return "record has no value (a tombstone?)";
    }
    if (r.key() == null) {
      return "record has no key";
    }
    return null;
  }

  /** The record as handlers see it. */
  static IncomingMessage toMessage(ReceiverRecord<String, byte[]> r) {
    Map<String, String> headers = new HashMap<>();
    for (Header h : r.headers()) {
      // A header without a value (legal in Kafka) reads as empty rather than failing the record.
      headers.put(h.key(), h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
    }
    return new IncomingMessage(
        r.topic(), r.partition(), r.offset(), r.key(), r.value(), Map.copyOf(headers));
  }
}
