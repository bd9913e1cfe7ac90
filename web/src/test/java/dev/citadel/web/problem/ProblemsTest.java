package dev.citadel.web.problem;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import reactor.netty.http.client.PrematureCloseException;

/** Failures of a service behind this one are 503 with Retry-After, never a bare 500. */
class ProblemsTest {
  @Test
  void a_service_that_cannot_be_reached_is_503() {
    var answer =
        Problems.of(new IllegalStateException(new ConnectException("refused"))).orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(answer.headers().getFirst("Retry-After")).isEqualTo("1");
  }

  @Test
  void a_service_that_dies_mid_request_is_503_and_says_it_may_have_acted() {
    var answer =
        Problems.of(new RuntimeException(PrematureCloseException.TEST_EXCEPTION)).orElseThrow();
    assertThat(answer.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(answer.detail()).contains("Idempotency-Key");
    assertThat(answer.headers().getFirst("Retry-After")).isEqualTo("1");
  }
}
