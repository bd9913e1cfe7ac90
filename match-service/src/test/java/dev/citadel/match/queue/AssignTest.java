package dev.citadel.match.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.match.domain.Ticket;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;

/** Confirming rooms in bulk ({@code assign-all.lua}) against real Redis. */
@CitadelInfra
class AssignTest {
  static final long NOW = 1_700_000_000_000L;
  static LettuceConnectionFactory factory;
  static Queues queues;

  @BeforeAll
  static void connect() {
    factory = new LettuceConnectionFactory(SharedInfra.redis().host(), SharedInfra.redis().port());
    factory.afterPropertiesSet();
    queues = new Queues(new ReactiveStringRedisTemplate(factory));
  }

  @AfterAll
  static void close() {
    factory.destroy();
  }

  /** Queues ten players and pops them into a pending match; returns its id and players. */
  static Queues.Assignment pendingMatch(String queue, int channel, int room) {
    List<Ticket> tickets = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      tickets.add(new Ticket(queue + "-" + UUID.randomUUID(), 1500 + i, NOW - 1000, "n" + i));
    }
    assertThat(queues.enqueue(queue, tickets, NOW - 1000).block()).containsOnly(Enqueued.OK);
    List<String> players = tickets.stream().map(Ticket::playerId).toList();
    Optional<String> id = queues.popAll(queue, List.of(players), NOW, NOW + 10_000).block().get(0);
    return new Queues.Assignment(id.orElseThrow(), channel, room, players.get(3));
  }

  static String newQueue() {
    return "assign-" + UUID.randomUUID();
  }

  @Test
  void a_confirmed_room_puts_the_match_in_a_game_once_and_a_redelivery_changes_nothing() {
    String queue = newQueue();
    Queues.Assignment a = pendingMatch(queue, 3, 7);
    Queues.Assignment b = pendingMatch(queue, 4, 2);

    List<Queues.Assigned> first = queues.assignAll(queue, List.of(a, b)).block();

    assertThat(first).allMatch(r -> r instanceof Queues.Assigned.Now);
    PendingMatch matchA = ((Queues.Assigned.Now) first.get(0)).match();
    assertThat(matchA.matchId()).isEqualTo(a.matchId());
    assertThat(matchA.players()).hasSize(10);
    assertThat(matchA.players()).allMatch(t -> t.enqueuedAtMs() == NOW - 1000);
    assertThat(queues.counts(queue).block())
        .containsEntry("inGame", 20L)
        .containsEntry("matched", 0L)
        .containsEntry("waiting", 0L);
    assertThat(queues.status(queue, a.someone()).block().state().name()).isEqualTo("IN_GAME");
    assertThat(queues.pending(queue, a.matchId()).block()).isEmpty();

    // The first answer lost (a timeout, a crash before the announcement): the same call again
    // answers the same, so the matches are still announced.
    List<Queues.Assigned> lost = queues.assignAll(queue, List.of(a, b)).block();
    assertThat(lost).isEqualTo(first);

    queues.announced(queue, List.of(a.matchId(), b.matchId())).block();
    List<Queues.Assigned> again = queues.assignAll(queue, List.of(b, a)).block();

    assertThat(again).allMatch(r -> r instanceof Queues.Assigned.Before);
    assertThat(queues.counts(queue).block()).containsEntry("inGame", 20L);
  }

  @Test
  void a_game_that_ended_before_its_room_was_confirmed_releases_its_players_and_seats_nobody() {
    // match.ended and match.room-assigned travel on different topics: the end can be read first.
    String queue = newQueue();
    Queues.Assignment a = pendingMatch(queue, 2, 9);
    List<String> players =
        queues.pending(queue, a.matchId()).block().orElseThrow().players().stream()
            .map(Ticket::playerId)
            .toList();

    List<String> left = queues.endMatch(queue, a.matchId(), players).block();
    List<Queues.Assigned> late = queues.assignAll(queue, List.of(a)).block();

    assertThat(left).containsExactlyInAnyOrderElementsOf(players);
    assertThat(late).containsExactly(new Queues.Assigned.Gone());
    assertThat(queues.status(queue, a.someone()).block().state().name()).isEqualTo("NOT_QUEUED");
    assertThat(queues.counts(queue).block())
        .containsEntry("inGame", 0L)
        .containsEntry("matched", 0L);
    assertThat(queues.pending(queue, a.matchId()).block()).isEmpty();
    assertThat(queues.endMatch(queue, a.matchId(), players).block())
        .as("ending again: nobody left")
        .isEmpty();
  }

  @Test
  void a_game_that_ends_after_its_room_takes_its_players_out_only_of_that_game() {
    String queue = newQueue();
    Queues.Assignment a = pendingMatch(queue, 2, 9);
    queues.assignAll(queue, List.of(a)).block();

    assertThat(queues.endMatch(queue, "some-other-match", List.of(a.someone())).block()).isEmpty();
    assertThat(queues.status(queue, a.someone()).block().state().name()).isEqualTo("IN_GAME");
    assertThat(queues.endMatch(queue, a.matchId(), List.of(a.someone())).block())
        .containsExactly(a.someone());
    assertThat(queues.status(queue, a.someone()).block().state().name()).isEqualTo("NOT_QUEUED");
  }

  @Test
  void a_room_for_a_match_that_was_requeued_changes_nothing() {
    String queue = newQueue();
    Queues.Assignment a = pendingMatch(queue, 1, 1);
    assertThat(queues.requeue(queue, a.matchId()).block()).isTrue();

    List<Queues.Assigned> result = queues.assignAll(queue, List.of(a)).block();

    assertThat(result).containsExactly(new Queues.Assigned.Gone());
    assertThat(queues.counts(queue).block())
        .containsEntry("inGame", 0L)
        .containsEntry("waiting", 10L);
    assertThat(queues.status(queue, a.someone()).block().state().name()).isEqualTo("WAITING");
  }

  @Test
  void the_same_match_twice_in_one_call_is_assigned_once() {
    String queue = newQueue();
    Queues.Assignment a = pendingMatch(queue, 2, 9);

    List<Queues.Assigned> result = queues.assignAll(queue, List.of(a, a)).block();

    assertThat(result.get(0)).isInstanceOf(Queues.Assigned.Now.class);
    assertThat(result.get(1)).isInstanceOf(Queues.Assigned.Before.class);
    assertThat(queues.counts(queue).block()).containsEntry("inGame", 10L);
  }
}
