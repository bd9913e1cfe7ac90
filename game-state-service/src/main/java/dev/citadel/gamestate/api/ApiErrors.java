package dev.citadel.gamestate.api;

import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.gamestate.player.PlayerRejected;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ServerWebInputException;

/** Every error becomes a JSON problem (RFC 9457) with one status, decided here and only here. */
@RestControllerAdvice
public class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

  @ExceptionHandler(PlayerRejected.class)
  ResponseEntity<ProblemDetail> rejected(PlayerRejected e) {
    return problem(status(e), e.getMessage());
  }

  /** The status of a rule's refusal, also when a transaction reports it for a participant. */
  public static HttpStatus status(PlayerRejected e) {
    return switch (e.kind()) {
      case INVALID -> HttpStatus.BAD_REQUEST;
      case NOT_FOUND -> HttpStatus.NOT_FOUND;
      case CONFLICT -> HttpStatus.CONFLICT;
    };
  }

  @ExceptionHandler(dev.citadel.gamestate.transactions.Refused.class)
  ResponseEntity<ProblemDetail> refused(dev.citadel.gamestate.transactions.Refused e) {
    return problem(e.status(), e.getMessage());
  }

  @ExceptionHandler(dev.citadel.gamestate.aggregate.Held.class)
  ResponseEntity<ProblemDetail> held(dev.citadel.gamestate.aggregate.Held e) {
    return problem(HttpStatus.CONFLICT, e.getMessage());
  }

  @ExceptionHandler(ApiException.class)
  ResponseEntity<ProblemDetail> api(ApiException e) {
    return problem(e.status(), e.getMessage());
  }

  @ExceptionHandler(ConcurrencyConflict.class)
  ResponseEntity<ProblemDetail> conflict(ConcurrencyConflict e) {
    return problem(HttpStatus.CONFLICT, "the player changed concurrently; try again");
  }

  @ExceptionHandler(ServerWebInputException.class)
  ResponseEntity<ProblemDetail> input(ServerWebInputException e) {
    String reason = e.getReason() == null ? "malformed request" : e.getReason();
    Throwable cause = e.getMostSpecificCause();
    String detail =
        cause != e && cause.getMessage() != null
            ? reason + ": " + firstLine(cause.getMessage())
            : reason;
    return problem(HttpStatus.BAD_REQUEST, detail);
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ProblemDetail> unexpected(Exception e) {
    log.error("request failed", e);
    return problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal error");
  }

  private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String detail) {
    ProblemDetail body = ProblemDetail.forStatusAndDetail(status, detail);
    return ResponseEntity.status(status).body(body);
  }

  private static String firstLine(String message) {
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
