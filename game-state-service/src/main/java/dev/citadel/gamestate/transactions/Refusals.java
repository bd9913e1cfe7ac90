package dev.citadel.gamestate.transactions;

import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.StoreBusy;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.aggregate.KeyReused;
import dev.citadel.gamestate.aggregate.Overloaded;
import dev.citadel.gamestate.player.PlayerRejected;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a failed transaction answers: each failure as the refusal its caller can act on. */
public final class Refusals {
  private static final Logger log = LoggerFactory.getLogger(Refusals.class);

  private Refusals() {}

  public static Refused of(Throwable e) {
    if (e instanceof Refused r) {
      return r;
    }
    if (e instanceof PlayerRejected p) {
      return new Refused(Refused.Reason.of(p.kind()), p.getMessage(), p);
    }
    if (e instanceof dev.citadel.web.problem.ApiException a) {
      // A step's command that does not parse (CommandParser): the caller's input, never a retry.
      return new Refused(Refused.Reason.INVALID, a.getMessage(), a);
    }
    if (e instanceof KeyReused k) {
      return new Refused(Refused.Reason.CONFLICT, k.getMessage(), k);
    }
    if (e instanceof Held || e instanceof ConcurrencyConflict) {
      return new Refused(
          Refused.Reason.CONFLICT, "a player is busy; try again: " + e.getMessage(), e);
    }
    if (e instanceof Overloaded || e instanceof StoreBusy) {
      return new Refused(Refused.Reason.UNAVAILABLE, e.getMessage(), e);
    }
    if (e instanceof TimeoutException) {
      return new Refused(Refused.Reason.UNAVAILABLE, "a participant did not answer in time", e);
    }
    if (e instanceof OutcomeUnknown u) {
      log.warn("transaction outcome unknown", e);
      return new Refused(
          Refused.Reason.UNAVAILABLE,
          u.clientKey()
              ? "the outcome is not known: send the same request again, unchanged (with its"
                  + " Idempotency-Key, if it had one); its key finds what happened"
              : "the outcome is not known: read the players' state before sending it again (a"
                  + " request sent without an Idempotency-Key may be applied twice)",
          e);
    }
    log.warn("transaction failed", e);
    return new Refused(Refused.Reason.UNAVAILABLE, "the transaction could not be completed", e);
  }
}
