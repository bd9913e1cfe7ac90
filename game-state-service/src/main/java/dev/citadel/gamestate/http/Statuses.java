package dev.citadel.gamestate.http;

import dev.citadel.gamestate.player.PlayerRejected;
import org.springframework.http.HttpStatus;

/**
 * The HTTP status of a rule's refusal: one mapping for the API's answers and for a transaction that
 * reports a participant's refusal to its coordinator.
 */
public final class Statuses {
  private Statuses() {}

  public static HttpStatus of(PlayerRejected e) {
    return switch (e.kind()) {
      case INVALID -> HttpStatus.BAD_REQUEST;
      case NOT_FOUND -> HttpStatus.NOT_FOUND;
      case CONFLICT -> HttpStatus.CONFLICT;
    };
  }
}
