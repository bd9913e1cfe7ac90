package dev.citadel.match.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.platform.ServiceProcess;
import dev.citadel.match.GameStateProcess;
import dev.citadel.match.domain.SkillWindow;
import dev.citadel.match.domain.Ticket;
import dev.citadel.match.handoff.HandOff;
import dev.citadel.match.matcher.Matcher;
import dev.citadel.match.queue.Enqueued;
import dev.citadel.match.queue.QueueStatus;
import dev.citadel.match.queue.Queues;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.web.testing.TestIdentity;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Faults on the hand-off. The room timeout is short here, so unanswered matches expire quickly.
 * Ordered: the last test stops game-state and starts it again.
 */
@CitadelInfra
@SpringBootTest
@ActiveProfiles("loadtest")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MatchFaultsTest {
  static ServiceProcess gameState;

  @DynamicPropertySource
  static void infrastructure(DynamicPropertyRegistry registry) {
    TestIdentity.shared()
        .serviceProperties("match-service")
        .forEach((k, v) -> registry.add(k, () -> v));
    registry.add("spring.data.redis.url", () -> SharedInfra.redis().url());
    registry.add("citadel.kafka.bootstrap-servers", () -> SharedInfra.kafka().bootstrapServers());
    registry.add("citadel.match.queues", () -> "faults");
    registry.add("citadel.match.room-timeout", () -> "2s");
  }

  @BeforeAll
  static void startGameState() throws Exception {
    gameState = GameStateProcess.start("game-state-faults", "game_state_faults");
  }

  @AfterAll
  static void stopGameState() {
    if (gameState != null) {
      gameState.stop(Duration.ofSeconds(20));
    }
  }

  @Autowired Queues queues;
  @Autowired HandOff handOff;
  @Autowired MessagePublisher publisher;
  @Autowired org.springframework.data.redis.core.ReactiveStringRedisTemplate redis;
  @Autowired io.micrometer.core.instrument.MeterRegistry meters;

  /** Ten players too far apart for the matcher to group them for half a minute. */
  List<Ticket> farApart(String tag) {
    List<Ticket> tickets = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      tickets.add(new Ticket(tag + "-" + i, 500 + i * 100, 0, "n" + i));
    }
    return tickets;
  }

  /** Waits until every one of these players is in {@code state} in the faults queue. */
  void awaitAll(List<Ticket> tickets, String state) {
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                ids(tickets).stream()
                    .allMatch(
                        p -> state.equals(queues.status("faults", p).block().state().name())));
  }

  List<String> ids(List<Ticket> tickets) {
    return tickets.stream().map(Ticket::playerId).toList();
  }

  @Test
  @Order(1)
  void a_matcher_killed_between_pop_and_publish_loses_nobody() {
    List<Ticket> tickets = farApart("crash-" + UUID.randomUUID());
    long now = System.currentTimeMillis();
    queues.enqueue("faults", tickets, now).block();
    // The pop happened (one Lua script: players out, pending match in), then the matcher died:
    // no match.found was ever sent. The deadline has passed already.
    String matchId =
        queues.popAll("faults", List.of(ids(tickets)), now, now - 1).block().get(0).orElseThrow();

    // Expiry re-sends it (attempt 2); game-state places it; everyone ends up in that game.
    awaitAll(tickets, "IN_GAME");
    assertThat(queues.status("faults", tickets.get(0).playerId()).block().matchId())
        .isEqualTo(matchId);
  }

  @Test
  @Order(2)
  void two_matchers_at_once_never_put_a_player_in_two_matches() {
    String queue = "faults";
    List<Ticket> same = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      same.add(new Ticket("race-" + UUID.randomUUID(), 2000, 0, "r"));
    }
    Matcher.Settings settings =
        new Matcher.Settings(
            10,
            new SkillWindow(100, 25, 1000, 60_000),
            Duration.ofSeconds(30),
            Duration.ofSeconds(5));
    Matcher a =
        new Matcher(queues, handOff, settings, Clock.systemUTC(), new SimpleMeterRegistry());
    Matcher b =
        new Matcher(queues, handOff, settings, Clock.systemUTC(), new SimpleMeterRegistry());
    queues.enqueue(queue, same, System.currentTimeMillis()).block();

    // The service's own matcher ticks too: three matchers contend for the queue.
    List<Integer> formed = Flux.just(a, b).flatMap(m -> m.tick(queue)).collectList().block();
    assertThat(formed).as("one of the two held the lock").contains(0);

    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                same.stream()
                    .map(t -> queues.status(queue, t.playerId()).block().state().name())
                    .allMatch("IN_GAME"::equals));
    Map<String, Integer> perMatch = new HashMap<>();
    for (Ticket t : same) {
      QueueStatus s = queues.status(queue, t.playerId()).block();
      perMatch.merge(s.matchId(), 1, Integer::sum);
    }
    assertThat(perMatch).hasSize(20).allSatisfy((m, n) -> assertThat(n).isEqualTo(10));
  }

  /**
   * The lock above lets one matcher work at a time; this is what holds when two pop anyway (one
   * whose lock lapsed mid-tick): groups sharing players, popped at once, and each player is taken
   * by one match at most.
   */
  @Test
  @Order(2)
  void two_pops_of_overlapping_groups_at_once_take_each_player_once() {
    String queue = "faults";
    List<String> players = new ArrayList<>();
    for (int i = 0; i < 15; i++) {
      players.add("overlap-" + UUID.randomUUID());
    }
    long now = System.currentTimeMillis();
    // Ratings far apart: the service's own matcher, ticking meanwhile, never groups them.
    List<Ticket> tickets = new ArrayList<>();
    for (int i = 0; i < players.size(); i++) {
      tickets.add(new Ticket(players.get(i), 100_000 + i * 10_000, 0, "o"));
    }
    queues.enqueue(queue, tickets, now).block();
    List<String> first = players.subList(0, 10);
    List<String> second = players.subList(5, 15); // shares five players with the first
    List<java.util.Optional<String>> popped =
        Flux.just(first, second)
            .flatMap(group -> queues.popAll(queue, List.of(group), now, now + 30_000))
            .map(ids -> ids.get(0))
            .collectList()
            .block();
    assertThat(popped).filteredOn(java.util.Optional::isPresent).hasSize(1);
    // Given back and taken out, so the expiry does not send the popped match later, mid-test.
    popped.stream()
        .flatMap(java.util.Optional::stream)
        .forEach(match -> queues.requeue(queue, match).block());
    players.forEach(p -> queues.cancel(queue, p).block());
  }

  @Test
  @Order(3)
  void a_game_that_ends_frees_its_room_and_its_players_can_queue_again() {
    List<Ticket> tickets = farApart("end-" + UUID.randomUUID());
    long now = System.currentTimeMillis();
    queues.enqueue("faults", tickets, now).block();
    String matchId =
        queues
            .popAll("faults", List.of(ids(tickets)), now, now + 30_000)
            .block()
            .get(0)
            .orElseThrow();
    handOff.send("faults", matchId, tickets, now, 1).block();
    awaitAll(tickets, "IN_GAME");
    QueueStatus seat = queues.status("faults", tickets.get(0).playerId()).block();
    WebClient game =
        WebClient.builder()
            .baseUrl("http://127.0.0.1:" + gameState.spec().port())
            .defaultHeaders(
                h ->
                    h.setBearerAuth(
                        TestIdentity.shared()
                            .service("game-server", "game-state", "match.results")))
            .build();

    Map<String, Object> ended = end(game, matchId);

    assertThat(ended)
        .containsEntry("matchId", matchId)
        .containsEntry("queue", "faults")
        .containsEntry("channel", seat.channel())
        .containsEntry("room", seat.room());
    awaitAll(tickets, "NOT_QUEUED");
    assertThat(queues.enqueue("faults", tickets, System.currentTimeMillis()).block())
        .as("back in the lobby: they may queue again")
        .containsOnly(Enqueued.OK);
    assertThat(end(game, matchId)).as("ending again answers the same").isEqualTo(ended);
    assertThat(
            game.post()
                .uri("/internal/matches/{id}/end", "faults-no-such-match")
                .exchangeToMono(r -> Mono.just(r.statusCode().value()))
                .block())
        .isEqualTo(404);
    tickets.forEach(t -> queues.cancel("faults", t.playerId()).block());
  }

  @Test
  @Order(4)
  void a_cancel_that_wins_requeues_the_players_with_their_wait_time_and_places_nothing() {
    List<Ticket> tickets = farApart("cancel-" + UUID.randomUUID());
    long enqueuedAt = System.currentTimeMillis() - 5_000;
    queues.enqueue("faults", tickets, enqueuedAt).block();
    long now = System.currentTimeMillis();
    // Popped, and neither the first send nor the re-send ever reached Kafka: attempt 2, overdue.
    // (Due in a minute first, so the service's own expiry leaves it to this test until then.)
    long due = now + 60_000;
    String matchId =
        queues.popAll("faults", List.of(ids(tickets)), now, due).block().get(0).orElseThrow();
    assertThat(queues.retry("faults", matchId, 2, due, now - 1).block())
        .as("not at the attempt seen: left alone")
        .isZero();
    assertThat(queues.retry("faults", matchId, 1, now, now - 1).block())
        .as("not due yet: left alone")
        .isZero();
    assertThat(queues.retry("faults", matchId, 1, due, now - 1).block()).isEqualTo(2);
    assertThat(queues.retry("faults", matchId, 1, due, now - 1).block())
        .as("the same call again (its reply lost, or Lettuce sent it again): the same answer")
        .isEqualTo(2);
    assertThat(queues.retry("faults", matchId, 1, due, now - 2).block())
        .as("a second replica that saw attempt 1 too: moved on already, so nothing")
        .isZero();

    // Expiry asks game-state to cancel it; the cancel wins (nothing placed); only then requeued.
    awaitAll(tickets, "WAITING");
    for (Ticket t : tickets) {
      assertThat(queues.status("faults", t.playerId()).block().waitingSinceMs())
          .isEqualTo(enqueuedAt);
    }
    assertThat(queues.pending("faults", matchId).block()).isEmpty();
    assertThat(
            gameServer()
                .get()
                .uri("/internal/matches/{id}", matchId)
                .exchangeToMono(r -> Mono.just(r.statusCode().value()))
                .block())
        .as("never placed")
        .isEqualTo(404);
    tickets.forEach(t -> queues.cancel("faults", t.playerId()).block());
  }

  @Test
  @Order(5)
  void a_room_confirmed_again_is_announced_once() {
    List<Ticket> tickets = farApart("once-" + UUID.randomUUID());
    long now = System.currentTimeMillis();
    queues.enqueue("faults", tickets, now).block();
    String player = tickets.get(0).playerId();
    List<String> pushes = new java.util.concurrent.CopyOnWriteArrayList<>();
    // Subscribed before the match is sent (the Mono completes once Redis confirmed it).
    var listening =
        redis
            .listenToChannelLater(dev.citadel.notify.PlayerNotifier.channel(player))
            .block(Duration.ofSeconds(10))
            .doOnNext(m -> pushes.add(m.getMessage()))
            .subscribe();
    try {
      String matchId =
          queues
              .popAll("faults", List.of(ids(tickets)), now, now + 30_000)
              .block()
              .get(0)
              .orElseThrow();
      handOff.send("faults", matchId, tickets, now, 1).block();
      awaitAll(tickets, "IN_GAME");
      await().until(() -> pushes.stream().anyMatch(m -> m.contains("match.room-assigned")));
      double before = meters.get("citadel_match_confirmations").counter().count();

      // match.found delivered twice more: game-state answers the same room each time.
      handOff.send("faults", matchId, tickets, now, 1).block();
      handOff.send("faults", matchId, tickets, now, 2).block();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> meters.get("citadel_match_confirmations").counter().count() >= before + 2);
      // A marker after them on the same channel: pub/sub keeps order, so any second announcement
      // (published before the counter moved) has arrived once the marker has.
      String marker = "marker-" + UUID.randomUUID();
      redis
          .convertAndSend(dev.citadel.notify.PlayerNotifier.channel(player), marker)
          .block(Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> pushes.contains(marker));

      assertThat(pushes).filteredOn(m -> m.contains("match.room-assigned")).hasSize(1);
    } finally {
      listening.dispose();
    }
  }

  @Test
  @Order(6)
  void a_send_that_timed_out_although_kafka_wrote_it_requeues_nobody_and_places_once() {
    List<Ticket> tickets = farApart("timeout-" + UUID.randomUUID());
    long now = System.currentTimeMillis();
    queues.enqueue("faults", tickets, now).block();
    // The producer wrote the record, then reported a timeout (the broker's reply was lost).
    MessagePublisher writtenButTimedOut =
        new MessagePublisher() {
          @Override
          public Mono<dev.citadel.messaging.Delivery> publish(
              dev.citadel.messaging.OutgoingMessage message) {
            return publisher
                .publish(message)
                .then(
                    Mono.error(new java.util.concurrent.TimeoutException("injected: reply lost")));
          }

          @Override
          public Flux<dev.citadel.messaging.Delivery> publishAll(
              Flux<dev.citadel.messaging.OutgoingMessage> messages) {
            return messages.concatMap(this::publish);
          }

          @Override
          public void close() {}
        };
    HandOff lying = new HandOff(writtenButTimedOut, "match.found", new SimpleMeterRegistry());
    String matchId =
        queues
            .popAll("faults", List.of(ids(tickets)), now, now + 2_000)
            .block()
            .get(0)
            .orElseThrow();

    assertThat(lying.send("faults", matchId, tickets, now, 1).block())
        .as("reported failed")
        .isFalse();

    // The match stays pending; game-state places it from the record that was written (or from the
    // re-send at the deadline, which answers the same room). Nobody is ever requeued meanwhile.
    List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () -> {
              List<String> states =
                  ids(tickets).stream()
                      .map(p -> queues.status("faults", p).block().state().name())
                      .toList();
              seen.addAll(states);
              return states.stream().allMatch("IN_GAME"::equals);
            });
    assertThat(seen).doesNotContain("WAITING", "NOT_QUEUED");
    for (Ticket t : tickets) {
      assertThat(queues.status("faults", t.playerId()).block().matchId()).isEqualTo(matchId);
    }
    assertThat(
            gameServer()
                .get()
                .uri("/internal/matches/{id}", matchId)
                .exchangeToMono(r -> Mono.just(r.statusCode().value()))
                .block())
        .isEqualTo(200);
  }

  WebClient gameServer() {
    return WebClient.builder()
        .baseUrl("http://127.0.0.1:" + gameState.spec().port())
        .defaultHeaders(
            h ->
                h.setBearerAuth(
                    TestIdentity.shared()
                        .service("game-server", "game-state", "match.read", "match.results")))
        .build();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> end(WebClient game, String matchId) {
    return game.post()
        .uri("/internal/matches/{id}/end", matchId)
        .retrieve()
        .bodyToMono(Map.class)
        .block(Duration.ofSeconds(30));
  }

  @Test
  @Order(9)
  void with_game_state_down_players_wait_matched_and_a_match_in_kafka_is_placed_when_it_is_back()
      throws Exception {
    gameState.stop(Duration.ofSeconds(20));
    gameState = null;
    List<Ticket> tickets = farApart("down-" + UUID.randomUUID());
    long now = System.currentTimeMillis();
    queues.enqueue("faults", tickets, now).block();
    String matchId =
        queues.popAll("faults", List.of(ids(tickets)), now, now + 500).block().get(0).orElseThrow();
    handOff.send("faults", matchId, tickets, now, 1).block(); // in Kafka; nobody answers

    // Re-sent, then cancel requested: the match may still be placed, so nobody is requeued.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> queues.pending("faults", matchId).block().orElseThrow().attempt() >= 3);
    for (Ticket t : tickets) {
      assertThat(queues.status("faults", t.playerId()).block().state().name()).isEqualTo("MATCHED");
    }

    // game-state is back: match.found comes first in the partition, so the placement wins and
    // every cancel after it answers the same room.
    gameState = GameStateProcess.start("game-state-faults", "game_state_faults");
    awaitAll(tickets, "IN_GAME");
    assertThat(queues.status("faults", tickets.get(0).playerId()).block().matchId())
        .isEqualTo(matchId);
  }
}
