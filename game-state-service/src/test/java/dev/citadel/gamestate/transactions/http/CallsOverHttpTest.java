package dev.citadel.gamestate.transactions.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.eventstore.EventData;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.player.PlayerRejected;
import dev.citadel.gamestate.transactions.Participant;
import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.gamestate.transactions.Step;
import dev.citadel.gamestate.transactions.Vote;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.server.reactive.ReactorHttpHandlerAdapter;
import org.springframework.web.reactive.config.EnableWebFlux;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.server.adapter.WebHttpHandlerBuilder;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

/**
 * The calls of many transactions in one request, both ends for real: {@link RemoteParticipant} over
 * loopback HTTP to {@link TransactionController} in a WebFlux server, whose participant is
 * scripted. Requests in flight are held at the server, so the calls made meanwhile must wait and go
 * together in the next request.
 */
class CallsOverHttpTest {
  /** Holds the prepare of players named "p-gate-*" until the gate opens. */
  static final class Scripted implements Participant {
    final Sinks.Empty<Void> gate = Sinks.empty();
    final Set<String> prepared = ConcurrentHashMap.newKeySet();
    final List<String> decisions = java.util.Collections.synchronizedList(new ArrayList<>());

    @Override
    public Mono<Vote> prepare(String txId, String playerId, String c, Map<String, Object> args) {
      Mono<Void> wait = playerId.startsWith("p-gate-") ? gate.asMono() : Mono.empty();
      return wait.then(
          Mono.defer(
              () -> {
                prepared.add(txId);
                return switch (playerId) {
                  case "p-held" -> Mono.error(new Held(playerId, "tx-other"));
                  case "p-rule" ->
                      Mono.error(
                          new PlayerRejected(PlayerRejected.Kind.CONFLICT, "not enough gold"));
                  case "p-events" ->
                      Mono.just(
                          new Vote(playerId, 7, List.of(new EventData("t", new byte[] {1, 2}))));
                  default -> Mono.just(new Vote(playerId, 1, List.of()));
                };
              }));
    }

    @Override
    public Mono<Void> commit(String txId, String playerId) {
      return Mono.fromRunnable(() -> decisions.add("commit " + txId + " " + playerId));
    }

    @Override
    public Mono<Void> abort(String txId, String playerId) {
      return Mono.fromRunnable(() -> decisions.add("abort " + txId + " " + playerId));
    }

    @Override
    public Mono<Void> commitAll(String txId, List<String> playerIds, Map<String, Long> stored) {
      decisions.add("stored " + txId + " " + new java.util.TreeMap<>(stored));
      return commitAll(txId, playerIds);
    }
  }

  @Configuration
  @EnableWebFlux
  static class Server {
    @Bean
    Scripted participant() {
      return new Scripted();
    }

    @Bean
    TransactionController controller(Scripted participant) {
      return new TransactionController(participant, Duration.ofSeconds(2));
    }
  }

  AnnotationConfigApplicationContext context;
  DisposableServer server;
  Scripted scripted;
  RemoteParticipant remote;
  final AtomicInteger requests = new AtomicInteger();

  @BeforeEach
  void start() {
    context = new AnnotationConfigApplicationContext(Server.class);
    scripted = context.getBean(Scripted.class);
    ReactorHttpHandlerAdapter handler =
        new ReactorHttpHandlerAdapter(WebHttpHandlerBuilder.applicationContext(context).build());
    server =
        HttpServer.create()
            .host("127.0.0.1")
            .port(0)
            .handle(
                (req, res) -> {
                  requests.incrementAndGet();
                  return handler.apply(req, res);
                })
            .bindNow();
    remote = new RemoteParticipant(WebClient.create("http://127.0.0.1:" + server.port()));
  }

  @AfterEach
  void stop() {
    scripted.gate.tryEmitEmpty();
    server.disposeNow();
    context.close();
  }

  static List<Step> steps(String... players) {
    return java.util.Arrays.stream(players).map(p -> new Step(p, "gift", Map.of())).toList();
  }

  /** Every slot taken by a request held at the server. */
  List<CompletableFuture<List<Vote>>> holdEverySlot() {
    List<CompletableFuture<List<Vote>>> held = new ArrayList<>();
    for (int i = 0; i < InstanceCalls.IN_FLIGHT; i++) {
      held.add(remote.prepareAll("tx-held-" + i, steps("p-gate-" + i)).toFuture());
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> requests.get() == held.size());
    return held;
  }

  static Throwable failure(CompletableFuture<?> f) {
    try {
      f.get(10, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    throw new AssertionError("completed without a failure");
  }

  @Test
  void calls_made_while_requests_are_in_flight_go_in_one_request_each_answered_on_its_own()
      throws Exception {
    List<CompletableFuture<List<Vote>>> held = holdEverySlot();

    var events = remote.prepareAll("tx-e", steps("p-events", "p-plain")).toFuture();
    var busy = remote.prepareAll("tx-b", steps("p-held")).toFuture();
    var rules = remote.prepareAll("tx-r", steps("p-rule")).toFuture();
    var commit = remote.commitAll("tx-c", List.of("p1", "p2"), Map.of("p1", 4L)).toFuture();
    var abort = remote.abortAll("tx-a", List.of("p3")).toFuture();
    scripted.gate.tryEmitEmpty();

    for (var f : held) {
      assertThat(f.get(10, TimeUnit.SECONDS)).hasSize(1);
    }
    List<Vote> votes = events.get(10, TimeUnit.SECONDS);
    assertThat(votes).extracting(Vote::playerId).containsExactly("p-events", "p-plain");
    assertThat(votes.get(0).expectedVersion()).isEqualTo(7);
    assertThat(votes.get(0).events().get(0).payload()).containsExactly(1, 2);
    // A busy player comes back busy (the coordinator tries again), a rule's refusal as it was.
    assertThat(failure(busy))
        .isInstanceOfSatisfying(
            Refused.class,
            r -> {
              assertThat(r.reason()).isEqualTo(Refused.Reason.CONFLICT);
              assertThat(r.getCause()).isInstanceOf(Held.class);
            });
    assertThat(failure(rules))
        .isInstanceOfSatisfying(
            Refused.class,
            r -> {
              assertThat(r.reason()).isEqualTo(Refused.Reason.CONFLICT);
              assertThat(r.getCause()).isNull();
              assertThat(r.getMessage()).isEqualTo("not enough gold");
            });
    commit.get(10, TimeUnit.SECONDS);
    abort.get(10, TimeUnit.SECONDS);
    assertThat(scripted.decisions)
        .containsExactlyInAnyOrder(
            "stored tx-c {p1=4}", "commit tx-c p1", "commit tx-c p2", "abort tx-a p3");
    // The five calls made while every slot was taken went in one request.
    assertThat(requests).hasValue(InstanceCalls.IN_FLIGHT + 1);
  }

  /** A decision is not taken back: one never sent would leave its players held until the lapse. */
  @Test
  void a_decision_whose_caller_stops_waiting_is_still_sent() throws Exception {
    List<CompletableFuture<List<Vote>>> held = holdEverySlot();

    remote.commitAll("tx-decided", List.of("p1"), Map.of()).subscribe().dispose();
    remote.abortAll("tx-undone", List.of("p2")).subscribe().dispose();
    scripted.gate.tryEmitEmpty();

    for (var f : held) {
      f.get(10, TimeUnit.SECONDS);
    }
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                scripted.decisions.contains("commit tx-decided p1")
                    && scripted.decisions.contains("abort tx-undone p2"));
  }

  @Test
  void a_call_given_up_while_it_waits_is_never_sent() throws Exception {
    List<CompletableFuture<List<Vote>>> held = holdEverySlot();

    Disposable gaveUp = remote.prepareAll("tx-gave-up", steps("p1")).subscribe();
    var kept = remote.prepareAll("tx-kept", steps("p2")).toFuture();
    gaveUp.dispose();
    scripted.gate.tryEmitEmpty();

    assertThat(kept.get(10, TimeUnit.SECONDS)).extracting(Vote::playerId).containsExactly("p2");
    for (var f : held) {
      f.get(10, TimeUnit.SECONDS);
    }
    assertThat(scripted.prepared).contains("tx-kept").doesNotContain("tx-gave-up");
    assertThat(requests).hasValue(InstanceCalls.IN_FLIGHT + 1);
  }
}
