package dev.citadel.gamestate.transactions;

import org.springframework.http.HttpStatus;

/**
 * A transaction did not commit: a participant refused (its rules, a hold, an unknown player), did
 * not answer in time, or the store failed. Nothing of it was stored; every hold was released.
 */
public final class Refused extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final HttpStatus status;

  public Refused(HttpStatus status, String message, Throwable cause) {
    super(message, cause, false, false);
    this.status = status;
  }

  public HttpStatus status() {
    return status;
  }
}
