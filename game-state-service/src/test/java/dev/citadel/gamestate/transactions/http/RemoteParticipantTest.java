package dev.citadel.gamestate.transactions.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.gamestate.transactions.Step;
import dev.citadel.gamestate.transactions.Vote;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientRequestException;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The participant client against a real HTTP server on loopback that drops connections without
 * answering, as a keep-alive connection being closed by the other side does.
 */
class RemoteParticipantTest {
  static final String VOTE = "{\"playerId\":\"p1\",\"expectedVersion\":3,\"events\":[]}";
  static final String VOTE2 =
      "{\"playerId\":\"p2\",\"expectedVersion\":7,\"events\":[{\"type\":\"t\",\"payload\":\"AQI=\"}]}";

  /** The answer to a request of one call: the prepare's votes (a decision ignores them). */
  static final String CALLS_ANSWER = "{\"answers\":[{\"votes\":[" + VOTE + "," + VOTE2 + "]}]}";

  DisposableServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.disposeNow();
    }
  }

  /** Drops the first {@code drops} requests' connections, then answers every request. */
  RemoteParticipant participant(int drops, AtomicInteger requests) {
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (req, res) ->
                    req.receive()
                        .then()
                        .then(
                            Mono.defer(
                                () -> {
                                  if (requests.incrementAndGet() <= drops) {
                                    return res.withConnection(c -> c.dispose()).then();
                                  }
                                  return res.header("Content-Type", "application/json")
                                      .sendString(
                                          Mono.just(
                                              req.uri().endsWith("/prepare")
                                                  ? VOTE
                                                  : req.uri().endsWith("/prepare-all")
                                                      ? "{\"votes\":[" + VOTE + "," + VOTE2 + "]}"
                                                      : req.uri().endsWith("/calls")
                                                          ? CALLS_ANSWER
                                                          : ""),
                                          StandardCharsets.UTF_8)
                                      .then();
                                })))
            .bindNow();
    return new RemoteParticipant(WebClient.create("http://127.0.0.1:" + server.port()));
  }

  @Test
  void a_prepare_whose_connection_dropped_before_an_answer_is_sent_once_more() {
    AtomicInteger requests = new AtomicInteger();
    Vote vote =
        participant(1, requests)
            .prepare("tx-1", "p1", "gift", Map.of())
            .block(Duration.ofSeconds(10));

    assertThat(vote.expectedVersion()).isEqualTo(3);
    assertThat(requests).hasValue(2);
  }

  /** All of one instance's players in one call (a result has ten), votes in the steps' order. */
  @Test
  void every_step_an_instance_has_goes_in_one_call_and_is_sent_once_more_if_dropped() {
    AtomicInteger requests = new AtomicInteger();
    var votes =
        participant(1, requests)
            .prepareAll(
                "tx-4",
                java.util.List.of(
                    new Step("p1", "gift", Map.of()), new Step("p2", "gift", Map.of())))
            .block(Duration.ofSeconds(10));

    assertThat(votes).extracting(Vote::playerId).containsExactly("p1", "p2");
    assertThat(votes.get(1).expectedVersion()).isEqualTo(7);
    assertThat(votes.get(1).events().get(0).payload()).containsExactly(1, 2);
    assertThat(requests).hasValue(2); // one call, sent once more after the drop
    participant(0, requests).commitAll("tx-4", java.util.List.of("p1", "p2")).block();
    assertThat(requests).hasValue(3);
  }

  /**
   * An instance that does not serve the calls of many transactions in one request, nor the one-call
   * endpoints (a rolling update from a version before them) answers 404: each transaction is sent
   * on its own, then each player, as that version expects.
   */
  @Test
  void an_instance_without_the_one_call_endpoints_is_asked_player_by_player() {
    java.util.List<String> paths =
        java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (req, res) -> {
                  paths.add(req.uri().replaceFirst(".*/", ""));
                  if (req.uri().endsWith("-all") || req.uri().endsWith("/calls")) {
                    return res.status(404).send();
                  }
                  return res.header("Content-Type", "application/json")
                      .sendString(
                          Mono.just(req.uri().endsWith("/prepare") ? VOTE : ""),
                          StandardCharsets.UTF_8)
                      .then();
                })
            .bindNow();
    RemoteParticipant p =
        new RemoteParticipant(WebClient.create("http://127.0.0.1:" + server.port()));

    var votes =
        p.prepareAll(
                "tx-5",
                java.util.List.of(
                    new Step("p1", "gift", Map.of()), new Step("p1", "gift", Map.of())))
            .block(Duration.ofSeconds(10));
    p.commitAll("tx-5", java.util.List.of("p1")).block(Duration.ofSeconds(10));
    p.abortAll("tx-5", java.util.List.of("p1")).block(Duration.ofSeconds(10));

    assertThat(votes).hasSize(2);
    assertThat(paths)
        .containsExactlyInAnyOrder(
            "calls", // once: its 404 is remembered for a minute
            "prepare-all",
            "prepare",
            "prepare",
            "commit-all",
            "commit",
            "abort-all",
            "abort");
  }

  /**
   * A request that fails as a whole (here a 500) fails the calls it carried, not the calls that
   * waited meanwhile: they go in the next request.
   */
  @Test
  void a_request_failing_as_a_whole_fails_only_its_own_calls() throws Exception {
    AtomicInteger requests = new AtomicInteger();
    reactor.core.publisher.Sinks.Empty<Void> gate = reactor.core.publisher.Sinks.empty();
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (req, res) ->
                    req.receive()
                        .then()
                        .then(
                            Mono.defer(
                                () -> {
                                  if (requests.incrementAndGet() <= InstanceCalls.IN_FLIGHT) {
                                    return gate.asMono().then(res.status(500).send());
                                  }
                                  return res.header("Content-Type", "application/json")
                                      .sendString(Mono.just(CALLS_ANSWER), StandardCharsets.UTF_8)
                                      .then();
                                })))
            .bindNow();
    RemoteParticipant p =
        new RemoteParticipant(WebClient.create("http://127.0.0.1:" + server.port()));
    var first = new java.util.ArrayList<java.util.concurrent.CompletableFuture<?>>();
    for (int i = 0; i < InstanceCalls.IN_FLIGHT; i++) {
      first.add(
          p.prepareAll("tx-f" + i, java.util.List.of(new Step("p1", "gift", Map.of()))).toFuture());
    }
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> requests.get() == InstanceCalls.IN_FLIGHT);
    var waited =
        p.prepareAll(
                "tx-w",
                java.util.List.of(
                    new Step("p1", "gift", Map.of()), new Step("p2", "gift", Map.of())))
            .toFuture();
    gate.tryEmitEmpty();

    assertThat(waited.get(10, java.util.concurrent.TimeUnit.SECONDS))
        .extracting(Vote::playerId)
        .containsExactly("p1", "p2");
    for (var f : first) {
      assertThatThrownBy(() -> f.get(10, java.util.concurrent.TimeUnit.SECONDS))
          .hasCauseInstanceOf(
              org.springframework.web.reactive.function.client.WebClientResponseException.class);
    }
  }

  /**
   * A request of several calls refused as a whole is no player's fault: "unavailable", sent again.
   * A request of one call is that call's answer, as on the per-transaction endpoints.
   */
  @Test
  void a_request_of_many_refused_as_a_whole_is_unavailable_and_one_of_one_is_the_calls_own() {
    var tooLarge =
        org.springframework.web.reactive.function.client.WebClientResponseException.create(
            413, "Content Too Large", null, new byte[0], StandardCharsets.UTF_8);

    assertThat(InstanceCalls.whole(tooLarge, 5))
        .isInstanceOfSatisfying(
            dev.citadel.gamestate.transactions.Refused.class,
            r ->
                assertThat(r.reason())
                    .isEqualTo(dev.citadel.gamestate.transactions.Refused.Reason.UNAVAILABLE));
    assertThat(InstanceCalls.whole(tooLarge, 1))
        .isInstanceOfSatisfying(
            dev.citadel.gamestate.transactions.Refused.class,
            r ->
                assertThat(r.reason())
                    .isEqualTo(dev.citadel.gamestate.transactions.Refused.Reason.TOO_LARGE));
  }

  /**
   * A participant's refusal for its capacity stays one on the coordinator's side (a batch of
   * results is then refused whole, 503, instead of being run again result by result); one player's
   * full mailbox and a busy player stay what they are. Until 2026-12-08 the reason was lost on the
   * wire and every such batch was split.
   */
  @Test
  void a_refusal_for_capacity_crosses_the_wire_as_one_and_a_full_mailbox_does_not() {
    var loads = new dev.citadel.gamestate.aggregate.Overloaded("loads", "too many loads waiting");
    var mailbox =
        new dev.citadel.gamestate.aggregate.Overloaded(
            dev.citadel.gamestate.aggregate.Overloaded.MAILBOX, "64 waiting");
    var busy = new dev.citadel.gamestate.aggregate.Held("p1", "tx-0");
    java.util.function.Function<Throwable, dev.citadel.gamestate.transactions.Refused> across =
        e ->
            (dev.citadel.gamestate.transactions.Refused)
                InstanceCalls.answer(TransactionController.refusal(e)).failure();

    assertThat(across.apply(loads).forCapacity()).isTrue();
    assertThat(across.apply(new dev.citadel.eventstore.StoreBusy(4096)).forCapacity()).isTrue();
    assertThat(across.apply(mailbox).forCapacity()).isFalse();
    assertThat(across.apply(busy).forCapacity()).isFalse();
    assertThat(across.apply(busy).getCause())
        .isInstanceOf(dev.citadel.gamestate.aggregate.Held.class);

    // A request of several calls refused whole with 503: refused for load before any call ran.
    var unavailable =
        org.springframework.web.reactive.function.client.WebClientResponseException.create(
            503, "Service Unavailable", null, new byte[0], StandardCharsets.UTF_8);
    assertThat(
            ((dev.citadel.gamestate.transactions.Refused) InstanceCalls.whole(unavailable, 5))
                .forCapacity())
        .isTrue();
    // One call's 503 (the per-transaction endpoints): its problem says which.
    assertThat(refusedWith(503, "{\"detail\":\"full\",\"capacity\":true}").forCapacity()).isTrue();
    assertThat(refusedWith(503, "{\"detail\":\"64 waiting\"}").forCapacity()).isFalse();
  }

  /** A one-player prepare refused by a real server with this status and problem body. */
  dev.citadel.gamestate.transactions.Refused refusedWith(int status, String problem) {
    Throwable failure =
        answering(status, "application/problem+json", problem)
            .prepare("tx-1", "p1", "gift", Map.of())
            .map(v -> (Throwable) new AssertionError("not refused"))
            .onErrorResume(Mono::just)
            .block(Duration.ofSeconds(10));
    return (dev.citadel.gamestate.transactions.Refused) failure;
  }

  /** A participant whose instance answers every request with this status, type and body. */
  RemoteParticipant answering(int status, String contentType, String body) {
    if (server != null) {
      server.disposeNow();
    }
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (req, res) ->
                    req.receive()
                        .then()
                        .then(
                            res.status(status)
                                .header("Content-Type", contentType)
                                .sendString(Mono.just(body), StandardCharsets.UTF_8)
                                .then()))
            .bindNow();
    return new RemoteParticipant(WebClient.create("http://127.0.0.1:" + server.port()));
  }

  /** An answer with no votes for a prepare (an empty answer) fails it: the coordinator aborts. */
  @Test
  void a_prepare_answered_without_votes_fails() {
    RemoteParticipant p = answering(200, "application/json", "{\"answers\":[{}]}");

    assertThatThrownBy(
            () ->
                p.prepareAll("tx-nv", java.util.List.of(new Step("p1", "gift", Map.of())))
                    .block(Duration.ofSeconds(10)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no votes");
    p.commitAll("tx-nv", java.util.List.of("p1")).block(Duration.ofSeconds(10)); // a decision: done
  }

  /** A prepare's answer must hold one vote per step, for its player: else nothing is stored. */
  @Test
  void a_prepare_answered_with_other_votes_than_its_steps_fails() {
    var steps =
        java.util.List.of(new Step("p1", "gift", Map.of()), new Step("p2", "gift", Map.of()));
    Vote v1 = new Vote("p1", 1, java.util.List.of());
    Vote v2 = new Vote("p2", 1, java.util.List.of());

    assertThat(RemoteParticipant.votesFor(steps, java.util.List.of(v1, v2))).hasSize(2);
    assertThatThrownBy(() -> RemoteParticipant.votesFor(steps, null))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> RemoteParticipant.votesFor(steps, java.util.List.of(v1)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> RemoteParticipant.votesFor(steps, java.util.List.of(v2, v1)))
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * A round of calls goes in requests under the 64 KB a service takes: the size estimate is never
   * below the JSON sent, and a round larger than a request is split.
   */
  @Test
  void calls_go_in_requests_under_the_body_limit() {
    var ratingStep =
        new TxWire.PrepareBody(
            "b6a1c1c6-9f57-4a8b-8a31-0d3c3f0e2d11",
            "rate-match",
            Map.of(
                "matchId",
                "m-0f3c9e1a-2b7d-4c55-9a61-7e2f4d8b9c30",
                "queue",
                "ranked-5v5",
                "team",
                1,
                "won",
                true,
                "teams",
                java.util.List.of(1520.5, 1498.25),
                "gold",
                120,
                "experience",
                300));
    var call =
        new TxWire.CallBody(
            "tx-" + java.util.UUID.randomUUID(),
            TxWire.Op.PREPARE,
            java.util.Collections.nCopies(10, ratingStep),
            null,
            null);
    int json =
        tools.jackson.databind.json.JsonMapper.builder().build().writeValueAsBytes(call).length;
    assertThat(InstanceCalls.size(call)).isGreaterThanOrEqualTo(json);
    var odd =
        new TxWire.CallBody(
            "tx-\u00e9\u4e2d\"\\\u0001",
            TxWire.Op.PREPARE,
            java.util.List.of(
                new TxWire.PrepareBody(
                    "p-\u4e2d\u6587", "gift", Map.of("reason", "\u4e2d\u6587\u0001\"\\ x"))),
            null,
            null);
    assertThat(InstanceCalls.size(odd))
        .isGreaterThanOrEqualTo(
            tools.jackson.databind.json.JsonMapper.builder().build().writeValueAsBytes(odd).length);

    var round = java.util.Collections.nCopies(64, call);
    var requests = InstanceCalls.split(round, InstanceCalls::size);
    assertThat(requests.stream().mapToInt(java.util.List::size).sum()).isEqualTo(64);
    assertThat(requests).hasSizeGreaterThan(1);
    for (var r : requests) {
      assertThat(r.stream().mapToInt(InstanceCalls::size).sum())
          .isLessThanOrEqualTo(InstanceCalls.MAX_BYTES);
    }
    assertThat(InstanceCalls.MAX_BYTES).isLessThan(64 * 1024);
  }

  @Test
  void a_decision_whose_connection_dropped_is_sent_once_more() {
    AtomicInteger requests = new AtomicInteger();
    participant(1, requests).commit("tx-2", "p1").block(Duration.ofSeconds(10));

    assertThat(requests).hasValue(2);
  }

  @Test
  void a_connection_that_drops_again_fails_with_the_original_error_after_one_more_try() {
    AtomicInteger requests = new AtomicInteger();
    RemoteParticipant p = participant(Integer.MAX_VALUE, requests);

    assertThatThrownBy(() -> p.abort("tx-3", "p1").block(Duration.ofSeconds(10)))
        .isInstanceOf(WebClientRequestException.class);
    assertThat(requests).hasValue(2);
  }
}
