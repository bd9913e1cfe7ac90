package dev.citadel.match.api;

import org.springframework.http.HttpStatus;

/** An error answered with its status and a JSON problem. */
public final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final HttpStatus status;

  public ApiException(HttpStatus status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public HttpStatus status() {
    return status;
  }
}
