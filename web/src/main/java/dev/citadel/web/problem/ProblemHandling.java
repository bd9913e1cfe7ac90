package dev.citadel.web.problem;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;

/**
 * The errors every service answers the same way, as JSON problems (RFC 9457): what the framework
 * raises before our code runs (no such route 404, wrong method 405, wrong media type 415,
 * unreadable or mistyped body 400, too large 413) and anything unexpected (500, logged). Details
 * are our own words: a parser's or decoder's message never reaches the caller. A service's
 * {@code @RestControllerAdvice} extends this and adds its own mappings.
 */
public abstract class ProblemHandling {
  private static final Logger log = LoggerFactory.getLogger(ProblemHandling.class);

  @ExceptionHandler(ServerWebInputException.class)
  ResponseEntity<ProblemDetail> input(ServerWebInputException e) {
    String reason = e.getReason();
    return problem(
        HttpStatus.BAD_REQUEST,
        reason == null || reason.isBlank()
            ? "the request could not be read"
            : firstLine(reason) + " (the body must be a JSON object of the documented shape)");
  }

  @ExceptionHandler(ResponseStatusException.class)
  ResponseEntity<ProblemDetail> status(ResponseStatusException e) {
    HttpStatusCode status = e.getStatusCode();
    String detail =
        e.getReason() == null || e.getReason().isBlank()
            ? HttpStatus.valueOf(status.value()).getReasonPhrase()
            : firstLine(e.getReason());
    return ResponseEntity.status(status)
        .headers(e.getHeaders())
        .body(ProblemDetail.forStatusAndDetail(status, detail));
  }

  @ExceptionHandler(DataBufferLimitException.class)
  ResponseEntity<ProblemDetail> tooLarge(DataBufferLimitException e) {
    return problem(HttpStatus.CONTENT_TOO_LARGE, "the request body is too large");
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ProblemDetail> unexpected(Exception e) {
    log.error("request failed", e);
    return problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal error");
  }

  protected static ResponseEntity<ProblemDetail> problem(HttpStatusCode status, String detail) {
    return ResponseEntity.status(status).body(ProblemDetail.forStatusAndDetail(status, detail));
  }

  private static String firstLine(String message) {
    int nl = message.indexOf('\n');
    return nl < 0 ? message : message.substring(0, nl);
  }
}
