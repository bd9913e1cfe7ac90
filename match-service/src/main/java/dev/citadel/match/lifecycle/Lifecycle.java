package dev.citadel.match.lifecycle;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.queue.PendingMatch;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.IncomingMessage;
import dev.citadel.messaging.MessageConsumer;
import dev.citadel.messaging.Unprocessable;
import dev.citadel.protocol.match.v1.MatchEnded;
import dev.citadel.protocol.match.v1.MatchRejected;
import dev.citadel.protocol.match.v1.RoomAssigned;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * PENDING -> ASSIGNED (room confirmed) or REJECTED (no room, or cancelled: players requeued). No
 * answer in time: re-sent once, then game-state is asked to cancel it, again every deadline until
 * it answers ({@link Expiry}). Only game-state decides a match's fate (placed or cancelled, at one
 * point in its journal), so players are requeued only once the cancel won, never while their match
 * may still be placed. The backend never believes players are in a game that no server created: a
 * player is IN_GAME only after game-state confirmed the room.
 */
public final class Lifecycle {
  private static final Logger log = LoggerFactory.getLogger(Lifecycle.class);
  static final String GROUP = "match-service.lifecycle";
  static final int MAX_BATCH = 500;

  private final Queues queues;
  private final Transitions transitions;
  private final Clock clock;
  private final String assignedTopic;
  private final String rejectedTopic;
  private final String endedTopic;
  private final List<String> queueNames;
  private final Counter assigned;
  private final Counter confirmed;
  private final Counter rejected;
  private final Counter ended;
  private final MeterRegistry meters;
  private final Map<String, Timer> enqueueToRoom = new ConcurrentHashMap<>();

  public Lifecycle(
      Queues queues,
      Transitions transitions,
      Clock clock,
      String assignedTopic,
      String rejectedTopic,
      String endedTopic,
      List<String> queueNames,
      MeterRegistry meters) {
    this.queues = queues;
    this.transitions = transitions;
    this.clock = clock;
    this.assignedTopic = assignedTopic;
    this.rejectedTopic = rejectedTopic;
    this.endedTopic = endedTopic;
    this.queueNames = List.copyOf(queueNames);
    this.assigned =
        Counter.builder("citadel_matches_assigned")
            .description(
                "Matches seated in a room and announced (one announced twice, see onAssigned,"
                    + " counts twice)")
            .register(meters);
    this.confirmed =
        Counter.builder("citadel_match_confirmations")
            .description("match.room-assigned messages handled (redeliveries included)")
            .register(meters);
    this.rejected = Counter.builder("citadel_matches_rejected").register(meters);
    this.ended =
        Counter.builder("citadel_matches_ended")
            .description("Games over: room freed, players back in the lobby")
            .register(meters);
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
        GROUP, List.of(assignedTopic, rejectedTopic, endedTopic), MAX_BATCH, this::handleBatch);
  }

  /**
   * A partition's batch. Confirmed rooms are handled together (one Redis script call per queue,
   * then one round of announcements); rejections and ended games one match at a time, a match's
   * messages in order. Every step is idempotent, so a batch that arrives again changes nothing (it
   * may announce again what it announced, see {@link #onAssigned}).
   */
  Mono<Void> handleBatch(List<IncomingMessage> batch) {
    List<RoomAssigned> confirmed = new ArrayList<>();
    List<IncomingMessage> others = new ArrayList<>();
    for (IncomingMessage m : batch) {
      if (!m.topic().equals(assignedTopic)) {
        others.add(m);
        continue;
      }
      try {
        confirmed.add(RoomAssigned.parseFrom(m.value()));
      } catch (InvalidProtocolBufferException e) {
        return Mono.error(new Unprocessable("bad lifecycle message", e));
      }
    }
    return onAssigned(confirmed)
        .thenMany(
            Flux.fromIterable(others)
                .groupBy(IncomingMessage::key)
                .flatMap(match -> match.concatMap(this::handleInOrder), Integer.MAX_VALUE))
        .then();
  }

  private Mono<Void> handleInOrder(IncomingMessage m) {
    try {
      if (m.topic().equals(endedTopic)) {
        MatchEnded e = MatchEnded.parseFrom(m.value());
        return onEnded(e.getQueue(), e.getMatchId(), e.getPlayerIdsList());
      }
      MatchRejected r = MatchRejected.parseFrom(m.value());
      return onRejected(r.getQueue(), r.getMatchId(), r.getReason());
    } catch (InvalidProtocolBufferException e) {
      return Mono.error(new Unprocessable("bad lifecycle message", e));
    }
  }

  /**
   * Rooms confirmed by game-state: their players are in a game, and are told so once. The matches
   * are assigned first (one script call per queue), then those not announced yet are announced and
   * marked so: a player told of a room reads their status as in that game; a confirmation that
   * arrives again (a redelivery, a cancel that lost) finds its match announced and does nothing;
   * one whose script answer was lost, or whose announcement a crash cut off, is announced when it
   * is handled again. The push itself is best effort (the state is readable). Twice only when two
   * replicas handle the same batch across a rebalance, or this one stopped or failed between the
   * push and the mark.
   */
  public Mono<Void> onAssigned(List<RoomAssigned> confirmations) {
    Map<String, Map<String, RoomAssigned>> byQueue = new LinkedHashMap<>();
    confirmations.forEach(
        a ->
            byQueue
                .computeIfAbsent(a.getQueue(), q -> new LinkedHashMap<>())
                .putIfAbsent(a.getMatchId(), a));
    return Flux.fromIterable(byQueue.entrySet())
        .concatMap(
            e -> {
              List<RoomAssigned> rooms = List.copyOf(e.getValue().values());
              return queues
                  .assignAll(
                      e.getKey(),
                      rooms.stream()
                          .map(
                              a ->
                                  new Queues.Assignment(
                                      a.getMatchId(),
                                      a.getChannel(),
                                      a.getRoom(),
                                      a.getPlayerIdsCount() == 0 ? "" : a.getPlayerIds(0)))
                          .toList())
                  .flatMap(results -> announce(e.getKey(), rooms, results))
                  .flatMap(seated -> markAnnounced(e.getKey(), seated));
            })
        .then(Mono.fromRunnable(() -> confirmed.increment(confirmations.size())));
  }

  /**
   * Best effort, as the push: a mark that failed leaves the match to be announced again only if its
   * confirmation is handled again (and a game over deletes it), where failing the batch would
   * announce it again for sure.
   */
  private Mono<Void> markAnnounced(String queue, List<Transitions.Seated> seated) {
    return queues
        .announced(queue, seated.stream().map(Transitions.Seated::matchId).toList())
        .onErrorResume(
            e -> {
              log.warn("{} matches announced but not marked so: {}", seated.size(), e.toString());
              return Mono.empty();
            });
  }

  /** Announces the rooms of the matches {@link Queues#assignAll} found not announced yet. */
  private Mono<List<Transitions.Seated>> announce(
      String queue, List<RoomAssigned> rooms, List<Queues.Assigned> results) {
    long now = clock.millis();
    List<Transitions.Seated> seated = new ArrayList<>();
    Timer timer = enqueueToRoom(queue);
    for (int i = 0; i < rooms.size(); i++) {
      if (!(results.get(i) instanceof Queues.Assigned.Now assignedNow)) {
        continue; // announced before, requeued or over: nothing to tell
      }
      PendingMatch match = assignedNow.match();
      RoomAssigned a = rooms.get(i);
      match
          .players()
          .forEach(t -> timer.record(Duration.ofMillis(Math.max(0, now - t.enqueuedAtMs()))));
      seated.add(
          new Transitions.Seated(players(match), a.getMatchId(), a.getChannel(), a.getRoom()));
    }
    assigned.increment(seated.size());
    return transitions.inGame(seated).thenReturn(seated);
  }

  /**
   * A game is over: its players are back in the lobby and may queue again. One script takes them
   * out of the game (compare-and-delete of their seat in this match), releases the match if its
   * room confirmation has not come yet (so that confirmation seats nobody) and records their
   * presence; the players it took out are then told (best effort: their state is readable). A
   * redelivery finds nobody. A placement recorded before the queue was part of it names none: every
   * queue is looked at.
   */
  public Mono<Void> onEnded(String queue, String matchId, List<String> players) {
    // A queue this replica does not serve is still a queue (its keys are in the same Redis).
    List<String> where = queue.isEmpty() ? queueNames : List.of(queue);
    return Flux.fromIterable(where)
        .concatMap(
            q ->
                queues
                    .endMatch(q, matchId, players)
                    .filter(left -> !left.isEmpty())
                    .flatMap(
                        left -> {
                          ended.increment();
                          return transitions.ended(left, matchId);
                        }))
        .then();
  }

  /** game-state's reason for a match it had no room for (its {@code RoomAllocator.NO_ROOM}). */
  static final String NO_FREE_ROOM = "no free room";

  /** How long a queue forms no matches after one was refused for want of a room. */
  static final Duration NO_ROOM_HOLD_OFF = Duration.ofSeconds(1);

  public Mono<Void> onRejected(String queue, String matchId, String reason) {
    Mono<Void> holdOff =
        NO_FREE_ROOM.equals(reason) ? queues.holdOff(queue, NO_ROOM_HOLD_OFF) : Mono.empty();
    return holdOff.then(onRejectedMatch(queue, matchId, reason));
  }

  private Mono<Void> onRejectedMatch(String queue, String matchId, String reason) {
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

  private static List<String> players(PendingMatch p) {
    return p.players().stream().map(Ticket::playerId).toList();
  }
}
