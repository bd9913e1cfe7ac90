package dev.citadel.match.handoff;

import dev.citadel.match.domain.Matchmaking;
import dev.citadel.match.domain.Ticket;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.OutgoingMessage;
import dev.citadel.protocol.match.v1.MatchFound;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Sends {@code match.found} (keyed by match id, acks=all, idempotent producer), and the cancel
 * requests that follow it on the same topic and key. A send that fails after the producer's retries
 * leaves the match pending: the record may have been written all the same (a timeout is not a
 * refusal), so only game-state may decide that the match is off; the expiry loop sends it again and
 * then asks game-state to cancel it (see {@code Lifecycle#expire}).
 */
public final class HandOff {
  private static final Logger log = LoggerFactory.getLogger(HandOff.class);

  private final MessagePublisher publisher;
  private final String topic;
  private final Counter sent;
  private final Counter failed;
  private final Counter cancelsFailed;

  public HandOff(MessagePublisher publisher, String topic, MeterRegistry meters) {
    this.publisher = publisher;
    this.topic = topic;
    this.sent = Counter.builder("citadel_matches_sent").tag("outcome", "sent").register(meters);
    this.failed = Counter.builder("citadel_matches_sent").tag("outcome", "failed").register(meters);
    this.cancelsFailed =
        Counter.builder("citadel_match_cancels_sent").tag("outcome", "failed").register(meters);
  }

  /**
   * @return true if sent, false if it failed (the match stays pending until its deadline)
   */
  public Mono<Boolean> send(
      String queue, String matchId, List<Ticket> players, long createdAtMs, int attempt) {
    List<Integer> teams = Matchmaking.teams(players);
    MatchFound.Builder message =
        MatchFound.newBuilder()
            .setMatchId(matchId)
            .setQueue(queue)
            .setCreatedAtEpochMs(createdAtMs)
            .setAttempt(attempt);
    for (int i = 0; i < players.size(); i++) {
      Ticket t = players.get(i);
      message.addPlayers(
          MatchedPlayer.newBuilder()
              .setPlayerId(t.playerId())
              .setNickname(t.nickname())
              .setElo(t.elo())
              .setTeam(teams.get(i))
              .setEnqueuedAtEpochMs(t.enqueuedAtMs()));
    }
    return publisher
        .publish(new OutgoingMessage(topic, matchId, message.build().toByteArray()))
        .thenReturn(true)
        .doOnNext(ok -> sent.increment())
        .onErrorResume(
            e -> {
              failed.increment();
              log.warn(
                  "match.found for {} may not have been sent; its deadline will tell", matchId, e);
              return Mono.just(false);
            });
  }

  /**
   * Asks game-state to cancel the match unless it placed it first. Sent on {@code match.found}'s
   * topic and key, so it is handled after every match.found of the match that reached Kafka before
   * it from this producer; game-state decides once (see its {@code RoomAllocator}) and answers the
   * outcome: {@code match.rejected} (cancelled: requeue) or {@code match.room-assigned}.
   */
  public Mono<Void> cancel(String queue, String matchId, int attempt) {
    MatchFound request =
        MatchFound.newBuilder()
            .setMatchId(matchId)
            .setQueue(queue)
            .setAttempt(attempt)
            .setCancel(true)
            .build();
    return publisher
        .publish(new OutgoingMessage(topic, matchId, request.toByteArray()))
        .then()
        // Asked again at the match's next deadline; one that failed must not end the expiry pass
        // for every other overdue match of the queue.
        .onErrorResume(
            e -> {
              cancelsFailed.increment();
              log.warn(
                  "cancel of {} may not have been sent; asked again at its deadline", matchId, e);
              return Mono.empty();
            });
  }
}
