package dev.citadel.gamestate.transactions.http;

import dev.citadel.gamestate.transactions.Participant;
import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.gamestate.transactions.Step;
import java.util.List;
import java.util.Map;

/**
 * The bodies of {@code /internal/tx/**}: what {@link RemoteParticipant} sends and {@link
 * TransactionController} answers in, one definition for both ends.
 */
public final class TxWire {
  private TxWire() {}

  /** How long the player is held is the participant's own configuration, never the caller's. */
  public record PrepareBody(String playerId, String command, Map<String, Object> args) {
    static List<PrepareBody> of(List<Step> steps) {
      return steps.stream().map(s -> new PrepareBody(s.playerId(), s.command(), s.args())).toList();
    }

    static List<Step> steps(List<PrepareBody> bodies) {
      return bodies.stream().map(b -> new Step(b.playerId(), b.command(), b.args())).toList();
    }
  }

  public record EventBody(String type, String payload) {}

  public record VoteBody(String playerId, long expectedVersion, List<EventBody> events) {}

  public record DecisionBody(String playerId) {}

  /** Every step one instance has in a transaction, in one call. */
  public record PrepareAllBody(List<PrepareBody> steps) {}

  public record VotesBody(List<VoteBody> votes) {}

  public record DecisionsBody(List<String> playerIds) {}

  /** What a call asks of the other instance's {@link Participant}. */
  public enum Op {
    PREPARE,
    COMMIT,
    ABORT
  }

  /**
   * One transaction's call in a request that carries many ({@code /internal/tx/calls}): the steps
   * to prepare, or the players to commit or abort.
   */
  public record CallBody(
      String tx,
      Op op,
      List<PrepareBody> steps,
      List<String> playerIds,
      Map<String, Long> stored) {}

  public record CallsBody(List<CallBody> calls) {}

  /**
   * A call's answer, in the calls' order: its votes (a prepare), nothing (a decision carried out),
   * or its refusal ({@link Refused.Reason}'s name, the detail, whether a player was busy, and
   * whether it was refused for the instance's capacity: {@link Refused#forCapacity()}).
   */
  public record AnswerBody(
      List<VoteBody> votes, String refused, String detail, Boolean busy, Boolean capacity) {
    static final AnswerBody DONE = new AnswerBody(null, null, null, null, null);
  }

  public record AnswersBody(List<AnswerBody> answers) {}
}
