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

  /**
   * A refusal for this instance's capacity says so in its problem, so that a coordinator on another
   * instance refuses its batch whole; one player's full mailbox does not.
   */
  @Test
  void a_refusal_for_capacity_says_so_and_a_full_mailbox_does_not() {
    ApiErrors errors = new ApiErrors();
    var loads = new dev.citadel.gamestate.aggregate.Overloaded("loads", "too many loads waiting");
    var mailbox =
        new dev.citadel.gamestate.aggregate.Overloaded(
            dev.citadel.gamestate.aggregate.Overloaded.MAILBOX, "64 waiting");
    assertThat(errors.overloaded(loads).getBody().getProperties()).containsEntry("capacity", true);
    assertThat(
            errors.overloaded(new dev.citadel.eventstore.StoreBusy(4096)).getBody().getProperties())
        .containsEntry("capacity", true);
    assertThat(errors.overloaded(mailbox).getBody().getProperties()).isNullOrEmpty();
    assertThat(
            errors
                .refused(new Refused(Refused.Reason.UNAVAILABLE, "busy", loads))
                .getBody()
                .getProperties())
        .containsEntry("capacity", true);
    assertThat(
            errors
                .refused(new Refused(Refused.Reason.UNAVAILABLE, "busy", mailbox))
                .getBody()
                .getProperties())
        .isNullOrEmpty();
  }

  @ParameterizedTest
  @EnumSource(Refused.Reason.class)
  void every_reason_has_a_status(Refused.Reason reason) {
    assertThat(ApiErrors.status(reason).isError()).isTrue();
  }
}
