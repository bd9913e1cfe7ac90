package dev.citadel.gamestate.transactions;

import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.AggregateType;
import dev.citadel.gamestate.aggregate.ReadAhead;
import dev.citadel.gamestate.http.CommandParser;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerRejected;
import dev.citadel.gamestate.player.PlayerState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The players hosted on this instance, as transaction participants. */
public final class LocalParticipant implements Participant {
  private final AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players;
  private final AggregateType<PlayerState, PlayerCommand, PlayerEvent> type;
  private final Clock clock;
  private final Duration holdFor;

  /**
   * Transactions aborted here in the last {@link #MAX_HOLD}, per player (tx id / player id -> when
   * forgotten): an abort can overtake its own prepare (the coordinator gave up waiting and aborted
   * while the prepare was still on its way), and that late prepare must not hold the player.
   */
  private final Map<String, Instant> aborted = new ConcurrentHashMap<>();

  private static final int ABORTED_SWEEP_AT = 10_000;
  private volatile Instant nextSweep = Instant.MIN;

  /** The longest a participant holds a player for a transaction, whatever it is configured to. */
  public static final Duration MAX_HOLD = Duration.ofSeconds(30);

  /**
   * @param holdFor how long a prepared player waits for the decision (server configuration, at most
   *     {@link #MAX_HOLD}; never from a request)
   */
  public LocalParticipant(
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> players,
      AggregateType<PlayerState, PlayerCommand, PlayerEvent> type,
      Clock clock,
      Duration holdFor) {
    if (holdFor.isNegative() || holdFor.isZero() || holdFor.compareTo(MAX_HOLD) > 0) {
      throw new IllegalArgumentException("hold-for must be between 0 and " + MAX_HOLD);
    }
    this.players = players;
    this.type = type;
    this.clock = clock;
    this.holdFor = holdFor;
  }

  @Override
  public Mono<Vote> prepare(
      String txId, String playerId, String command, Map<String, Object> args) {
    Instant forgotten = aborted.get(key(txId, playerId));
    if (forgotten != null && clock.instant().isBefore(forgotten)) {
      return Mono.error(
          new Refused(Refused.Reason.CONFLICT, "transaction " + txId + " was aborted", null));
    }
    return Mono.fromCallable(() -> parse(command, args))
        .flatMap(c -> players.prepare(txId, playerId, c, holdFor))
        .map(
            p ->
                new Vote(
                    playerId, p.expectedVersion(), p.events().stream().map(type::encode).toList()));
  }

  /**
   * The public commands, plus {@value #RELATE}: one side of a friendship change, which only a
   * transaction may run (alone it would let a player befriend someone unasked).
   */
  private PlayerCommand parse(String command, Map<String, Object> args) {
    if (RELATE.equals(command)) {
      Object other = args == null ? null : args.get("other");
      Object action = args == null ? null : args.get("action");
      try {
        return new PlayerCommand.Relate(
            other == null ? null : other.toString(),
            PlayerCommand.Relate.Action.valueOf(String.valueOf(action)));
      } catch (IllegalArgumentException e) {
        throw new PlayerRejected(PlayerRejected.Kind.INVALID, "unknown friend action " + action);
      }
    }
    return CommandParser.participantCommand(command, args);
  }

  public static final String RELATE = "relate";

  @Override
  public Mono<Void> commit(String txId, String playerId) {
    return carriedOut(() -> players.commitPrepared(txId, playerId).then());
  }

  /**
   * A commit or an abort runs to its end once asked, whatever its caller does meanwhile: the
   * coordinator gives up on a commit after its timeout (a busy player's mailbox, a slow journal
   * read), and cancelled, a commit still queued behind the player's other work was skipped, leaving
   * the hold until it lapsed (and with it the after-commit work: the notification, the
   * leaderboard), and an abort left the player refusing every command as held. As over HTTP.
   */
  private static Mono<Void> carriedOut(java.util.function.Supplier<Mono<Void>> work) {
    return RunsToEnd.of(work);
  }

  /**
   * Every player's newer events in one query first (the journal holds this transaction's events
   * once the coordinator commits), then each player's commit from them, every one even when another
   * fails; then the first failure.
   */
  @Override
  public Mono<Void> commitAll(String txId, List<String> playerIds) {
    return commitAll(txId, playerIds, Map.of());
  }

  /**
   * The same; the players whose votes the coordinator's own append stored ({@code stored}) are
   * committed from their votes, without a read (unless their copy moved meanwhile: then from the
   * journal, read on its own).
   */
  @Override
  public Mono<Void> commitAll(String txId, List<String> playerIds, Map<String, Long> stored) {
    List<String> unread = playerIds.stream().filter(id -> !stored.containsKey(id)).toList();
    Instant at = clock.instant();
    return carriedOut(() -> commitAllNow(txId, playerIds, stored, unread, at));
  }

  private Mono<Void> commitAllNow(
      String txId,
      List<String> playerIds,
      Map<String, Long> stored,
      List<String> unread,
      Instant at) {
    return (unread.isEmpty() ? Mono.just(ReadAhead.none()) : players.readAhead(unread))
        .flatMap(
            ahead ->
                Participant.allThenFirstFailure(
                    Flux.fromIterable(playerIds)
                        .flatMapSequential(
                            id ->
                                players
                                    .commitPrepared(txId, id, ahead, stored.get(id), at)
                                    .then()
                                    .materialize(),
                            Math.max(1, playerIds.size()),
                            1)))
        .then();
  }

  @Override
  public Mono<Void> abort(String txId, String playerId) {
    Instant now = clock.instant();
    if (aborted.size() >= ABORTED_SWEEP_AT && now.isAfter(nextSweep)) {
      nextSweep = now.plusSeconds(1); // at most one sweep a second, however many aborts
      aborted.values().removeIf(until -> !now.isBefore(until));
    }
    aborted.put(key(txId, playerId), now.plus(MAX_HOLD));
    return carriedOut(() -> players.abortPrepared(txId, playerId));
  }

  private static String key(String txId, String playerId) {
    return txId + "/" + playerId;
  }
}
