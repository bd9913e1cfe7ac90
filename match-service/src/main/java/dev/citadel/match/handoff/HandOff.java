package dev.citadel.match.handoff;

import dev.citadel.match.matcher.Matchmaking;
import dev.citadel.match.matcher.Ticket;
import dev.citadel.match.queue.Queues;
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
 * Sends {@code match.found} (keyed by match id, acks=all, idempotent producer). A send that fails
 * after the producer's retries gives the players back to the queue with their original wait time.
 */
public final class HandOff {
  private static final Logger log = LoggerFactory.getLogger(HandOff.class);

  private final MessagePublisher publisher;
  private final Queues queues;
  private final String topic;
  private final Counter sent;
  private final Counter failed;

  public HandOff(MessagePublisher publisher, Queues queues, String topic, MeterRegistry meters) {
    this.publisher = publisher;
    this.queues = queues;
    this.topic = topic;
    this.sent = Counter.builder("citadel_matches_sent").tag("outcome", "sent").register(meters);
    this.failed = Counter.builder("citadel_matches_sent").tag("outcome", "failed").register(meters);
  }

  /**
   * @return true if sent, false if it failed and the players were requeued
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
              log.warn("match.found for {} not sent, requeueing its players", matchId, e);
              return queues.requeue(queue, matchId).thenReturn(false);
            });
  }
}
