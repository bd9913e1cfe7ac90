package dev.citadel.match.api;

import dev.citadel.web.problem.ProblemHandling;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/** match-service's errors as JSON problems, each with one status decided here. */
@RestControllerAdvice
public class ApiErrors extends ProblemHandling {

  @ExceptionHandler(ApiException.class)
  ResponseEntity<ProblemDetail> api(ApiException e) {
    return problem(e.status(), e.getMessage());
  }
}
