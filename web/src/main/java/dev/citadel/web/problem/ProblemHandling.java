package dev.citadel.web.problem;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.server.ResponseStatusException;

/**
 * The errors every service answers the same way, as JSON problems (RFC 9457): what the framework
 * raises around our code (unreadable or mistyped body 400, too large 413, wrong media type 415,
 * ...: see {@link Problems}, which words them) and anything unexpected (500, logged). A parser's or
 * decoder's message never reaches the caller. A service's {@code @RestControllerAdvice} extends
 * this and adds its own mappings; what happens before any controller (no route, wrong method) is
 * {@link ProblemWebExceptionHandler}'s.
 */
public abstract class ProblemHandling {
  private static final Logger log = LoggerFactory.getLogger(ProblemHandling.class);

  @ExceptionHandler(ApiException.class)
  ResponseEntity<ProblemDetail> api(ApiException e) {
    return problem(e.status(), e.getMessage());
  }

  @ExceptionHandler(ResponseStatusException.class)
  ResponseEntity<ProblemDetail> framework(ResponseStatusException e) {
    return Problems.of(e).map(ProblemHandling::entity).orElseGet(() -> unexpected(e));
  }

  @ExceptionHandler(org.springframework.core.io.buffer.DataBufferLimitException.class)
  ResponseEntity<ProblemDetail> tooLarge(Exception e) {
    return Problems.of(e).map(ProblemHandling::entity).orElseGet(() -> unexpected(e));
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ProblemDetail> unexpected(Exception e) {
    java.util.Optional<Problems.Answer> known = Problems.of(e);
    if (known.isPresent()) {
      return entity(known.get());
    }
    log.error("request failed", e);
    return problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal error");
  }

  /** A problem; a 503 always says when to try again ({@code Retry-After}). */
  protected static ResponseEntity<ProblemDetail> problem(HttpStatusCode status, String detail) {
    ResponseEntity.BodyBuilder response = ResponseEntity.status(status);
    if (status.value() == 503) {
      response.header(org.springframework.http.HttpHeaders.RETRY_AFTER, "1");
    }
    return response.body(ProblemDetail.forStatusAndDetail(status, detail));
  }

  private static ResponseEntity<ProblemDetail> entity(Problems.Answer answer) {
    return ResponseEntity.status(answer.status()).headers(answer.headers()).body(answer.body());
  }
}
