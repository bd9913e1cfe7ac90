package dev.citadel.gamestate.api;

import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.StoreBusy;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.aggregate.KeyReused;
import dev.citadel.gamestate.aggregate.Overloaded;
import dev.citadel.gamestate.http.Statuses;
import dev.citadel.gamestate.player.PlayerRejected;
import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.web.problem.ProblemHandling;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * game-state's errors as JSON problems (RFC 9457), each with one status decided here; the
 * framework's and the unexpected ones as every service answers them ({@link ProblemHandling}).
 */
@RestControllerAdvice
public class ApiErrors extends ProblemHandling {

  @ExceptionHandler(PlayerRejected.class)
  ResponseEntity<ProblemDetail> rejected(PlayerRejected e) {
    return problem(Statuses.of(e), e.getMessage());
  }

  @ExceptionHandler(Refused.class)
  ResponseEntity<ProblemDetail> refused(Refused e) {
    return forCapacity(problem(status(e.reason()), e.getMessage()), e.forCapacity());
  }

  @ExceptionHandler(Held.class)
  ResponseEntity<ProblemDetail> held(Held e) {
    ResponseEntity<ProblemDetail> answer = problem(HttpStatus.CONFLICT, e.getMessage());
    // Machine-readable: a coordinator on another instance tries again instead of giving up.
    answer.getBody().setProperty("busy", true);
    return answer;
  }

  @ExceptionHandler(KeyReused.class)
  ResponseEntity<ProblemDetail> keyReused(KeyReused e) {
    return problem(HttpStatus.CONFLICT, e.getMessage());
  }

  /** A bound on waiting work was reached: refused at once, nothing done (with Retry-After). */
  @ExceptionHandler({Overloaded.class, StoreBusy.class})
  ResponseEntity<ProblemDetail> overloaded(RuntimeException e) {
    return forCapacity(
        problem(HttpStatus.SERVICE_UNAVAILABLE, e.getMessage()), Refused.forCapacity(e));
  }

  /**
   * Machine-readable: refused for this instance's capacity (not one player's full mailbox), so a
   * coordinator on another instance refuses its batch whole instead of running it result by result.
   */
  private static ResponseEntity<ProblemDetail> forCapacity(
      ResponseEntity<ProblemDetail> answer, boolean capacity) {
    if (capacity) {
      answer.getBody().setProperty("capacity", true);
    }
    return answer;
  }

  @ExceptionHandler(ConcurrencyConflict.class)
  ResponseEntity<ProblemDetail> conflict(ConcurrencyConflict e) {
    return problem(HttpStatus.CONFLICT, "the player changed concurrently; try again");
  }

  /** A refused transaction's status. */
  static HttpStatus status(Refused.Reason reason) {
    return switch (reason) {
      case INVALID -> HttpStatus.BAD_REQUEST;
      case NOT_FOUND -> HttpStatus.NOT_FOUND;
      case TOO_LARGE -> HttpStatus.CONTENT_TOO_LARGE;
      case UNPROCESSABLE -> HttpStatus.UNPROCESSABLE_CONTENT;
      case CONFLICT -> HttpStatus.CONFLICT;
      case UNAVAILABLE -> HttpStatus.SERVICE_UNAVAILABLE;
    };
  }
}
