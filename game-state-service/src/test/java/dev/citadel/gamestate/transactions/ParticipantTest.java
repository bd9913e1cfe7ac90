package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.gamestate.aggregate.Held;
import dev.citadel.gamestate.player.PlayerRejected;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** One call per instance, with the semantics of one call per player. */
class ParticipantTest {
  /** Prepares p-ok, refuses p-held (busy) and p-rule (the rules), after a pause each. */
  static final class Scripted implements Participant {
    final Set<String> prepared = ConcurrentHashMap.newKeySet();

    @Override
    public Mono<Vote> prepare(String txId, String playerId, String c, Map<String, Object> args) {
      return Mono.delay(Duration.ofMillis(playerId.equals("p-ok") ? 50 : 1))
          .then(
              Mono.defer(
                  () -> {
                    prepared.add(playerId);
                    return switch (playerId) {
                      case "p-held" -> Mono.error(new Held(playerId, "tx-other"));
                      case "p-rule" ->
                          Mono.error(
                              new PlayerRejected(PlayerRejected.Kind.CONFLICT, "not enough gold"));
                      default -> Mono.just(new Vote(playerId, 1, List.of()));
                    };
                  }));
    }

    @Override
    public Mono<Void> commit(String txId, String playerId) {
      return Mono.empty();
    }

    @Override
    public Mono<Void> abort(String txId, String playerId) {
      return Mono.empty();
    }
  }

  static Step step(String player) {
    return new Step(player, "gift", Map.of());
  }

  @Test
  void every_step_is_tried_and_the_first_failing_step_is_raised_as_it_is() {
    Scripted p = new Scripted();

    assertThatThrownBy(
            () ->
                p.prepareAll("tx", List.of(step("p-ok"), step("p-held"), step("p-rule")))
                    .block(Duration.ofSeconds(5)))
        .isInstanceOf(Held.class); // not a composite of two: the coordinator retries a busy one
    // The slow prepare ran to the end before the failure was reported (its hold is there to abort).
    assertThat(p.prepared).containsExactlyInAnyOrder("p-ok", "p-held", "p-rule");

    assertThatThrownBy(
            () ->
                p.prepareAll("tx", List.of(step("p-rule"), step("p-held")))
                    .block(Duration.ofSeconds(5)))
        .isInstanceOf(PlayerRejected.class);
  }

  @Test
  void the_votes_come_in_the_steps_order() {
    List<Vote> votes =
        new Scripted()
            .prepareAll("tx", List.of(step("p-ok"), step("p-b"), step("p-c")))
            .block(Duration.ofSeconds(5));

    assertThat(votes).extracting(Vote::playerId).containsExactly("p-ok", "p-b", "p-c");
  }
}
