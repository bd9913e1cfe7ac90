package dev.citadel.web.problem;

import org.springframework.http.HttpStatus;

/**
 * An error a service's HTTP edge raises itself (bad input shape, missing or wrong identity),
 * answered by {@link ProblemHandling} with its status and a JSON problem.
 */
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

  public static ApiException badRequest(String message) {
    return new ApiException(HttpStatus.BAD_REQUEST, message);
  }
}
