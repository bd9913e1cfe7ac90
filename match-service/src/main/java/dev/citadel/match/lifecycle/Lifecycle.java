package dev.citadel.match.lifecycle;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.matcher.Ticket;
import dev.citadel.match.queue.PendingMatch;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.protocol.match.v1.MatchRejected;
import dev.citadel.protocol.match.v1.RoomAssigned;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * PENDING -> ASSIGNED (room confirmed), REJECTED (players requeued first) or EXPIRED (no answer in
 * time: re-sent once, then cancelled and requeued). The backend never believes players are in a
 * game that no server created: a player is IN_GAME only after game-state confirmed the room.
 */
public final class Lifecycle {
  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);
  static final String GROUP = "match-service.lifecycle";
  static final int MAX_BATCH = 500;

  private final Queues queues;
  private final HandOff handOff;
  private final Transitions transitions;
  private final Clock clock;
  private final Duration roomTimeout;
  private final String assignedTopic;
  private final String rejectedTopic;
  private final Counter assigned;
  private final Counter rejected;
  private final Counter resent;
  private final Counter expired;
  private final MeterRegistry meters;
  private final Map<String, Timer> enqueueToRoom = new ConcurrentHashMap<>();

  public Lifecycle(
      Queues queues,
      HandOff handOff,
      Transitions transitions,
      Clock clock,
      Duration roomTimeout,
      String assignedTopic,
      String rejectedTopic,
      MeterRegistry meters) {
    this.queues = queues;
    this.handOff = handOff;
    this.transitions = transitions;
    this.clock = clock;
    this.roomTimeout = roomTimeout;
    this.assignedTopic = assignedTopic;
    this.rejectedTopic = rejectedTopic;
    this.assigned = Counter.builder("citadel_matches_assigned").register(meters);
    this.rejected = Counter.builder("citadel_matches_rejected").register(meters);
    this.resent = Counter.builder("citadel_matches_resent").register(meters);
    this.expired = Counter.builder("citadel_matches_expired").register(meters);
    this.meters = meters;
  }

  /** From joining the queue to a confirmed room, per player and queue. */
  private Timer enqueueToRoom(String queue) {
    return enqueueToRoom.computeIfAbsent(
        queue,
        q ->
            Timer.builder("citadel_match_enqueue_to_room_seconds")
                .description("From joining the queue to a confirmed room, per player")
                .tag("queue", q)
                .publishPercentiles(0.5, 0.99)
                .publishPercentileHistogram()
                .register(meters));
  }

  public Disposable consume(MessageConsumer consumer) {
    return consumer.startBatched(
        GROUP, List.of(assignedTopic, rejectedTopic), MAX_BATCH, this::handleBatch);
  }

  /**
   * A partition's batch: different matches at once, one match's messages in order (every step is
   * idempotent, so a batch that arrives again does nothing new).
   */
  Mono<Void> handleBatch(List<IncomingMessage> batch) {
    return Flux.fromIterable(batch)
        .groupBy(IncomingMessage::key)
        .flatMap(match -> match.concatMap(this::handle), Integer.MAX_VALUE)
        .then();
  }

  Mono<Void> handle(IncomingMessage m) {
    try {
      if (m.topic().equals(assignedTopic)) {
        RoomAssigned a = RoomAssigned.parseFrom(m.value());
        return onAssigned(a.getQueue(), a.getMatchId(), a.getChannel(), a.getRoom());
      }
      MatchRejected r = MatchRejected.parseFrom(m.value());
      return onRejected(r.getQueue(), r.getMatchId(), r.getReason());
    } catch (InvalidProtocolBufferException e) {
      return Mono.error(new IllegalArgumentException("bad lifecycle message", e));
    }
  }

  /** Idempotent: a redelivered confirmation finds nothing pending and does nothing. */
  public Mono<Void> onAssigned(String queue, String matchId, int channel, int room) {
    return queues
        .pending(queue, matchId)
        .flatMap(Mono::justOrEmpty)
        .flatMap(
            p ->
                queues
                    .assign(queue, matchId, channel, room)
                    .filter(done -> done)
                    .flatMap(
                        done -> {
                          assigned.increment();
                          long now = clock.millis();
                          p.players()
                              .forEach(
                                  t ->
                                      enqueueToRoom(queue)
                                          .record(
                                              Duration.ofMillis(
                                                  Math.max(0, now - t.enqueuedAtMs()))));
                          return transitions.inGame(players(p), matchId, channel, room);
                        }))
        .then();
  }

  public Mono<Void> onRejected(String queue, String matchId, String reason) {
    return queues
        .pending(queue, matchId)
        .flatMap(Mono::justOrEmpty)
        .flatMap(
            p ->
                queues
                    .requeue(queue, matchId)
                    .filter(done -> done)
                    .flatMap(
                        done -> {
                          log.info("match {} rejected ({}): players requeued", matchId, reason);
                          rejected.increment();
                          return transitions.requeued(players(p), matchId);
                        }))
        .then();
  }

  /** Re-sends overdue matches once, then cancels and requeues them. */
  public Mono<Integer> expire(String queue) {
    long now = clock.millis();
    return queues
        .overdue(queue, now, 1000)
        .concatMap(
            p -> {
              if (p.attempt() < 2) {
                return queues
                    .retry(queue, p.matchId(), now + roomTimeout.toMillis())
                    .filter(attempt -> attempt == 2)
                    .flatMap(
                        attempt -> {
                          resent.increment();
                          return handOff.send(queue, p.matchId(), p.players(), p.createdAtMs(), 2);
                        })
                    .thenReturn(1);
              }
              return queues
                  .requeue(queue, p.matchId())
                  .filter(done -> done)
                  .flatMap(
                      done -> {
                        expired.increment();
                        return transitions.requeued(players(p), p.matchId());
                      })
                  .thenReturn(1);
            })
        .reduce(0, Integer::sum);
  }

  public Disposable startExpiry(List<String> queueNames, Duration interval) {
    return Flux.interval(interval)
        .onBackpressureDrop()
        .concatMap(
            t ->
                Flux.fromIterable(queueNames)
                    .concatMap(q -> expire(q).onErrorResume(e -> Mono.just(0))),
            1)
        .subscribe();
  }

  private static List<String> players(PendingMatch p) {
    return p.players().stream().map(Ticket::playerId).toList();
  }
}
