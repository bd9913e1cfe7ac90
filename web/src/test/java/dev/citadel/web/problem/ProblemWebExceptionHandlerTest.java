package dev.citadel.web.problem;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.netty.channel.AbortedException;
import reactor.test.StepVerifier;

class ProblemWebExceptionHandlerTest {
  final ProblemWebExceptionHandler handler = new ProblemWebExceptionHandler();

  static MockServerWebExchange committed() {
    MockServerWebExchange exchange =
        MockServerWebExchange.from(MockServerHttpRequest.get("/api/game/players/p-1"));
    exchange.getResponse().setStatusCode(HttpStatus.OK);
    exchange.getResponse().setComplete().block();
    return exchange;
  }

  /**
   * What Spring passes on when the client leaves while an answer is written: its own handling fails
   * on the committed headers with a bare UnsupportedOperationException, the disconnect attached as
   * suppressed.
   */
  @Test
  void a_client_that_left_while_the_answer_was_written_ends_quietly() {
    UnsupportedOperationException error = new UnsupportedOperationException();
    error.addSuppressed(new AbortedException("Connection has been closed"));
    StepVerifier.create(handler.handle(committed(), error)).verifyComplete();
    assertThat(
            ProblemWebExceptionHandler.clientGone(
                new IllegalStateException(new IOException("Connection reset by peer"))))
        .isTrue();
  }

  @Test
  void a_reset_of_our_own_connection_is_not_taken_for_the_client_leaving() {
    UnsupportedOperationException error = new UnsupportedOperationException();
    error.addSuppressed(
        new org.springframework.web.reactive.function.client.WebClientRequestException(
            new IOException("Connection reset by peer"),
            org.springframework.http.HttpMethod.GET,
            java.net.URI.create("http://game-state/api"),
            org.springframework.http.HttpHeaders.EMPTY));
    StepVerifier.create(handler.handle(committed(), error))
        .expectErrorMatches(e -> e == error)
        .verify();
  }

  @Test
  void any_other_error_after_the_answer_was_committed_is_passed_on() {
    UnsupportedOperationException error = new UnsupportedOperationException();
    StepVerifier.create(handler.handle(committed(), error))
        .expectErrorMatches(e -> e == error)
        .verify();
  }
}
