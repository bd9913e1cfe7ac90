package dev.citadel.member.api;

import dev.citadel.member.account.MemberRejected;
import dev.citadel.member.login.LoginThrottle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;

/** Every error becomes a JSON problem with one status, decided here. */
@RestControllerAdvice
public class ApiErrors {
  private static final Logger log = LoggerFactory.getLogger(ApiErrors.class);

  @ExceptionHandler(MemberRejected.class)
  ResponseEntity<ProblemDetail> rejected(MemberRejected e) {
    HttpStatus status =
        switch (e.kind()) {
          case INVALID -> HttpStatus.BAD_REQUEST;
          case UNAUTHORIZED -> HttpStatus.UNAUTHORIZED;
          case NOT_FOUND -> HttpStatus.NOT_FOUND;
          case CONFLICT -> HttpStatus.CONFLICT;
        };
    return problem(status, e.getMessage());
  }

  @ExceptionHandler(LoginThrottle.Locked.class)
  ResponseEntity<ProblemDetail> locked(LoginThrottle.Locked e) {
    long seconds = Math.max(1, (e.retryAfter().toMillis() + 999) / 1000);
    return ResponseEntity.status(HttpStatus.TOO_MANY_REQUESTS)
        .header(HttpHeaders.RETRY_AFTER, Long.toString(seconds))
        .body(
            ProblemDetail.forStatusAndDetail(
                HttpStatus.TOO_MANY_REQUESTS,
                "too many failed log-ins; try again in " + seconds + " s"));
  }

  @ExceptionHandler(ServerWebInputException.class)
  ResponseEntity<ProblemDetail> input(ServerWebInputException e) {
    return problem(
        HttpStatus.BAD_REQUEST, e.getReason() == null ? "malformed request" : e.getReason());
  }

  @ExceptionHandler(ResponseStatusException.class)
  ResponseEntity<ProblemDetail> status(ResponseStatusException e) {
    HttpStatus status = HttpStatus.valueOf(e.getStatusCode().value());
    return problem(status, e.getReason() == null ? status.getReasonPhrase() : e.getReason());
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ProblemDetail> unexpected(Exception e) {
    log.error("request failed", e);
    return problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal error");
  }

  private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String detail) {
    return ResponseEntity.status(status).body(ProblemDetail.forStatusAndDetail(status, detail));
  }
}
