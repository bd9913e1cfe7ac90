package dev.citadel.eventstore;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A caller's key for an append: an append to a stream that already holds the key is not written.
 *
 * @param value unique per stream, e.g. {@code reward:R-1} or {@code tx:<id>}
 * @param fingerprint what the request was (a digest of its content), to tell a retry of the same
 *     request from a different request reusing the key
 */
public record IdempotencyKey(String value, String fingerprint) {
  public static final int MAX_LENGTH = 200;

  /** A key whose fingerprint is the SHA-256 of the request's parts, in order. */
  public static IdempotencyKey of(String value, Object... requestParts) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Object part : requestParts) {
        sha.update(String.valueOf(part).getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
      }
      return new IdempotencyKey(value, HexFormat.of().formatHex(sha.digest()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  public IdempotencyKey {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(fingerprint, "fingerprint");
    if (value.isEmpty() || value.length() > MAX_LENGTH) {
      throw new IllegalArgumentException("an idempotency key has 1-" + MAX_LENGTH + " characters");
    }
  }
}
