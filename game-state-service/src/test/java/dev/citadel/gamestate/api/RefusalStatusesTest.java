package dev.citadel.gamestate.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.gamestate.transactions.http.RemoteParticipant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.http.HttpStatus;

/**
 * A peer's refusal reaches this instance's caller with the status the peer gave (a reason in
 * between, no HTTP inside the transaction), except what only says "try again", which is a 503.
 */
class RefusalStatusesTest {

  @ParameterizedTest
  @EnumSource(
      value = HttpStatus.class,
      names = {
        "BAD_REQUEST",
        "NOT_FOUND",
        "CONFLICT",
        "CONTENT_TOO_LARGE",
        "UNPROCESSABLE_CONTENT",
        "SERVICE_UNAVAILABLE"
      })
  void a_peers_status_comes_back_as_it_was(HttpStatus peer) {
    assertThat(ApiErrors.status(RemoteParticipant.reason(peer))).isEqualTo(peer);
  }

  @Test
  void too_many_requests_is_a_retry_and_other_client_errors_are_invalid() {
    assertThat(ApiErrors.status(RemoteParticipant.reason(HttpStatus.TOO_MANY_REQUESTS)))
        .isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
    assertThat(RemoteParticipant.reason(HttpStatus.METHOD_NOT_ALLOWED))
        .isEqualTo(Refused.Reason.INVALID);
  }

  @ParameterizedTest
  @EnumSource(Refused.Reason.class)
  void every_reason_has_a_status(Refused.Reason reason) {
    assertThat(ApiErrors.status(reason).isError()).isTrue();
  }
}
