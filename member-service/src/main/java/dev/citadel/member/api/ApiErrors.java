package dev.citadel.member.api;

import dev.citadel.member.account.MemberRejected;
import dev.citadel.member.login.LoginThrottle;
import dev.citadel.member.login.http.EdgeAddress;
import dev.citadel.web.problem.ProblemHandling;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** member-service's errors as JSON problems, each with one status decided here. */
@RestControllerAdvice
public class ApiErrors extends ProblemHandling {

  @ExceptionHandler(MemberRejected.class)
  ResponseEntity<ProblemDetail> rejected(MemberRejected e) {
    HttpStatus status =
        switch (e.kind()) {
          case INVALID -> HttpStatus.BAD_REQUEST;
          case UNAUTHORIZED -> HttpStatus.UNAUTHORIZED;
          case NOT_FOUND -> HttpStatus.NOT_FOUND;
          case CONFLICT, KEY_REUSED -> HttpStatus.CONFLICT;
          case BUSY -> HttpStatus.SERVICE_UNAVAILABLE;
        };
    if (e.kind() == MemberRejected.Kind.BUSY) {
      return ResponseEntity.status(status)
          .header(HttpHeaders.RETRY_AFTER, "1")
          .body(ProblemDetail.forStatusAndDetail(status, e.getMessage()));
    }
    return problem(status, e.getMessage());
  }

  @ExceptionHandler(EdgeAddress.Refused.class)
  ResponseEntity<ProblemDetail> refused(EdgeAddress.Refused e) {
    return ResponseEntity.status(HttpStatus.UNAUTHORIZED)
        .header(HttpHeaders.WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")
        .body(ProblemDetail.forStatusAndDetail(HttpStatus.UNAUTHORIZED, e.getMessage()));
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
}
