package dev.citadel.gamestate.transactions.http;

import dev.citadel.gamestate.aggregate.GroupedLookups;
import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.aggregate.Overloaded;
import dev.citadel.gamestate.transactions.LocalParticipant;
import dev.citadel.gamestate.transactions.Refused;
import dev.citadel.gamestate.transactions.Vote;
import dev.citadel.gamestate.transactions.http.TxWire.AnswerBody;
import dev.citadel.gamestate.transactions.http.TxWire.AnswersBody;
import dev.citadel.gamestate.transactions.http.TxWire.CallBody;
import dev.citadel.gamestate.transactions.http.TxWire.CallsBody;
import dev.citadel.gamestate.transactions.http.TxWire.PrepareBody;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientResponseException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The calls of many transactions to one other game-state instance, sent together: whoever calls
 * while {@link #IN_FLIGHT} requests to it are in flight waits for the next, which takes everyone
 * waiting (up to {@link #MAX_CALLS}, split in requests of at most about {@link #MAX_BYTES} of JSON,
 * under the 64 KB any Citadel service takes), {@code POST /internal/tx/calls}. No timer: a lone
 * call goes at once. Each call is carried out and answered on its own over there; a request that
 * fails as a whole (no response twice, a timeout, any status but 404) fails the calls it carried,
 * never the others. Sent once more if it got no response at all (every call is idempotent by
 * transaction id). An instance that answers 404 (an older version) gets each call on its own for a
 * minute.
 *
 * <p>One unit on purpose (over 300 lines): the queue, the split by size, the request and its
 * failures, and the fallback share one round's calls and their answers.
 */
final class InstanceCalls {
  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(InstanceCalls.class);

  /** Calls one round of requests carries at most. */
  static final int MAX_CALLS = 64;

  /** Requests in flight at once to one instance (a round split by size counts once). */
  static final int IN_FLIGHT = 4;

  /**
   * Calls waiting at most (past it, refused at once as overload) and how long one may wait for its
   * request (checked when a call arrives or a request finishes): a decision waits for its slot as
   * long as a hold may last. A prepare's coordinator stops waiting much sooner (its own timeout),
   * which takes it out of the queue.
   */
  static final int MAX_WAITING = 65_536;

  static final Duration MAX_WAIT = LocalParticipant.MAX_HOLD;

  /** The JSON one request carries at most, as estimated ({@link #size}). */
  static final int MAX_BYTES = 48 * 1024;

  /** How long a request may take: past it, its calls fail (and its slot is free again). */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  static final Duration NOT_SERVED_FOR = Duration.ofMinutes(1);

  /** A call's answer: its votes (a prepare; null for a decision), or the failure to raise. */
  record Answer(List<Vote> votes, Throwable failure) {}

  /** A call waiting for the next request: equal only to itself (two may carry the same body). */
  private static final class Call {
    final CallBody body;

    Call(CallBody body) {
      this.body = body;
    }
  }

  private final WebClient http;
  private final Function<CallBody, Mono<List<Vote>>> alone;
  private final GroupedLookups<Call, Answer> queue;
  private final DistributionSummary callsPerRequest;
  private final LongSupplier nanoTime;

  /** When an answer said {@code /internal/tx/calls} is not served (null: it is). */
  private volatile Long notServedSince;

  /**
   * @param alone a call in a request of its own, to an instance without {@code /internal/tx/calls}
   */
  InstanceCalls(
      WebClient http,
      Function<CallBody, Mono<List<Vote>>> alone,
      MeterRegistry meters,
      LongSupplier nanoTime) {
    this.http = http;
    this.alone = alone;
    this.nanoTime = nanoTime;
    this.callsPerRequest =
        DistributionSummary.builder("citadel_tx_calls_per_request")
            .description("Calls to another game-state instance that one request carried")
            .register(meters);
    this.queue =
        new GroupedLookups<>(
            "instance-calls",
            "a call to another game-state instance",
            this::send,
            new Answer(null, new IllegalStateException("a call was left unanswered")),
            MAX_CALLS,
            IN_FLIGHT,
            MAX_WAITING,
            MAX_WAIT,
            nanoTime);
  }

  /** The call's answer (a failure is raised); cancelled while it waits, it is not sent. */
  Mono<Answer> call(CallBody body) {
    return queue
        .get(new Call(body))
        .flatMap(a -> a.failure() != null ? Mono.error(a.failure()) : Mono.just(a));
  }

  /** Never fails: each call gets its answer or its failure. */
  private Mono<Map<Call, Answer>> send(Collection<Call> waiting) {
    List<Call> round = List.copyOf(waiting);
    Long since = notServedSince;
    if (since != null && nanoTime.getAsLong() - since < NOT_SERVED_FOR.toNanos()) {
      return eachAlone(round);
    }
    List<List<Call>> requests = split(round);
    return Flux.fromIterable(requests)
        .flatMap(this::request, requests.size())
        .collect(IdentityHashMap::new, Map::putAll);
  }

  private Mono<Map<Call, Answer>> request(List<Call> calls) {
    callsPerRequest.record(calls.size());
    return http.post()
        .uri("/internal/tx/calls")
        .bodyValue(new CallsBody(calls.stream().map(c -> c.body).toList()))
        .retrieve()
        .bodyToMono(AnswersBody.class)
        .timeout(REQUEST_TIMEOUT)
        .retryWhen(RemoteParticipant.ONCE_IF_NO_RESPONSE)
        .map(answers -> byCall(calls, answers))
        .onErrorResume(
            WebClientResponseException.NotFound.class,
            e -> {
              notServedSince = nanoTime.getAsLong();
              return eachAlone(calls);
            })
        .onErrorResume(
            e -> {
              Throwable failure = whole(e, calls.size());
              Map<Call, Answer> failed = new IdentityHashMap<>();
              calls.forEach(c -> failed.put(c, new Answer(null, failure)));
              return Mono.just(failed);
            });
  }

  /**
   * A request of several calls refused as a whole says nothing of any player in it (each call's
   * verdict travels in the answer): whatever its status, its calls were not carried out, and may be
   * sent again. A request of one call is that call's answer, as on the per-transaction endpoints (a
   * 413 of one call too large is not worth sending again).
   */
  static Throwable whole(Throwable e, int calls) {
    if (!(e instanceof WebClientResponseException r)) {
      return e;
    }
    if (calls == 1) {
      return RemoteParticipant.refused(r);
    }
    int status = r.getStatusCode().value();
    if (status == 401 || status == 403) {
      log.error("another game-state instance refused this one's call ({})", status, r);
    } else if (status != 503) {
      log.warn("another game-state instance refused a request of {} calls ({})", calls, status);
    }
    String detail = "another game-state instance could not take the call";
    // A 503 of the whole request: that instance refused it for load, before any call ran.
    return new Refused(
        Refused.Reason.UNAVAILABLE, detail, status == 503 ? Overloaded.remote(detail) : r);
  }

  private static Map<Call, Answer> byCall(List<Call> calls, AnswersBody answers) {
    if (answers.answers() == null || answers.answers().size() != calls.size()) {
      throw new IllegalStateException(
          "another game-state instance answered "
              + (answers.answers() == null ? 0 : answers.answers().size())
              + " of "
              + calls.size()
              + " calls");
    }
    Map<Call, Answer> byCall = new IdentityHashMap<>();
    for (int i = 0; i < calls.size(); i++) {
      Answer a;
      try {
        a = answer(answers.answers().get(i));
      } catch (RuntimeException malformed) {
        a = new Answer(null, malformed); // this call's answer only
      }
      byCall.put(calls.get(i), a);
    }
    return byCall;
  }

  private Mono<Map<Call, Answer>> eachAlone(List<Call> calls) {
    return Flux.fromIterable(calls)
        .flatMap(
            c ->
                alone
                    .apply(c.body)
                    .timeout(REQUEST_TIMEOUT)
                    .map(votes -> new Answer(votes, null))
                    .onErrorResume(e -> Mono.just(new Answer(null, e)))
                    .map(a -> Map.entry(c, a)),
            calls.size())
        .collect(IdentityHashMap::new, (m, e) -> m.put(e.getKey(), e.getValue()));
  }

  /** A call's answer from the wire: a refusal as the coordinator takes one from this instance. */
  static Answer answer(AnswerBody b) {
    if (b == null) {
      return new Answer(
          null, new IllegalStateException("another game-state instance sent an empty answer"));
    }
    if (b.refused() != null) {
      Refused.Reason reason;
      try {
        reason = Refused.Reason.valueOf(b.refused());
      } catch (IllegalArgumentException unknown) {
        reason = Refused.Reason.UNAVAILABLE; // a newer instance's reason: not the player's input
      }
      String detail = b.detail() != null ? b.detail() : "a participant refused";
      // A player held by another transaction over there is as busy as one held here: retried. A
      // refusal for its capacity is one here too (a batch of results refused whole, not split).
      Throwable cause =
          Boolean.TRUE.equals(b.busy())
              ? Held.remote(detail)
              : Boolean.TRUE.equals(b.capacity()) ? Overloaded.remote(detail) : null;
      return new Answer(null, new Refused(reason, detail, cause));
    }
    return new Answer(
        b.votes() == null ? null : b.votes().stream().map(RemoteParticipant::vote).toList(), null);
  }

  /** The round in requests of at most {@link #MAX_BYTES} each (a larger call goes alone). */
  static <C> List<List<C>> split(List<C> calls, java.util.function.ToIntFunction<C> size) {
    List<List<C>> requests = new ArrayList<>();
    List<C> current = new ArrayList<>();
    int bytes = 0;
    for (C c : calls) {
      int n = size.applyAsInt(c);
      if (!current.isEmpty() && bytes + n > MAX_BYTES) {
        requests.add(current);
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(c);
      bytes += n;
    }
    if (!current.isEmpty()) {
      requests.add(current);
    }
    return requests;
  }

  private static List<List<Call>> split(List<Call> round) {
    return split(round, c -> size(c.body));
  }

  /**
   * The call's JSON in bytes, estimated generously: field names, quotes and numbers included, a
   * character outside printable ASCII counted as its longest escape (6 bytes), the steps' arguments
   * twice over.
   */
  static int size(CallBody c) {
    int n = 96 + bytes(c.tx());
    if (c.steps() != null) {
      for (PrepareBody s : c.steps()) {
        n += 64 + bytes(s.playerId()) + bytes(s.command()) + 2 * bytes(String.valueOf(s.args()));
      }
    }
    if (c.playerIds() != null) {
      for (String id : c.playerIds()) {
        n += 4 + bytes(id);
      }
    }
    if (c.stored() != null) {
      for (String id : c.stored().keySet()) {
        n += 28 + bytes(id);
      }
    }
    return n;
  }

  private static int bytes(String s) {
    if (s == null) {
      return 4;
    }
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      n += ch == '"' || ch == '\\' ? 2 : ch >= 0x20 && ch <= 0x7e ? 1 : 6;
    }
    return n;
  }
}
