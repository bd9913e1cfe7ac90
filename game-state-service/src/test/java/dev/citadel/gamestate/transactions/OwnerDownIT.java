package dev.citadel.gamestate.transactions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.infra.junit.CitadelInfra;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/**
 * Two game-state processes; one goes down. Gifts that touch its players go on through the other
 * one, which now owns them (as the gateway routes them), instead of failing while it is down.
 */
@CitadelInfra
class OwnerDownIT {
  static TwoInstances cluster;

  @BeforeAll
  static void start() throws Exception {
    cluster = new TwoInstances("game_state_owner_down", Map.of());
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** A new player whose owner, with both instances up, is instance {@code i}. */
  static String ownedBy(int i) {
    while (true) {
      String p = "od-" + UUID.randomUUID();
      if (cluster.owner(p).equals(cluster.urls.get(i))) {
        return p;
      }
    }
  }

  @Test
  void gifts_to_the_players_of_an_instance_that_is_down_go_through_the_one_that_is_up() {
    String giver = ownedBy(0);
    String taker = ownedBy(1);
    cluster.register(List.of(giver, taker));
    cluster.grant(giver, "start-" + giver, Map.of("gold", 100)).block(Duration.ofSeconds(30));
    String up = cluster.urls.get(0);

    cluster.processes.get(1).stop(Duration.ofSeconds(20));

    // Within a few readiness probes the instance that is up owns everyone; until then a gift may
    // be refused (and changes nothing), never half-done.
    await()
        .atMost(Duration.ofSeconds(30))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> gift(up, giver, taker, 25) == 200);

    assertThat(gold(up, giver)).isEqualTo(75);
    assertThat(gold(up, taker)).isEqualTo(25);
  }

  static int gift(String url, String from, String to, long gold) {
    return TwoInstances.client(url)
        .post()
        .uri("/api/game/players/{id}/gifts", from)
        .headers(h -> h.setBearerAuth(TwoInstances.token(from)))
        .bodyValue(Map.of("to", to, "gold", gold))
        .exchangeToMono(r -> r.releaseBody().thenReturn(r.statusCode().value()))
        .onErrorResume(e -> Mono.just(-1))
        .block(Duration.ofSeconds(30));
  }

  @SuppressWarnings("unchecked")
  static long gold(String url, String player) {
    Map<String, Object> view =
        TwoInstances.client(url)
            .get()
            .uri("/api/game/players/{id}", player)
            .headers(h -> h.setBearerAuth(TwoInstances.token(player)))
            .retrieve()
            .bodyToMono(Map.class)
            .block(Duration.ofSeconds(30));
    Object state = view.get("state");
    Map<String, Object> fields = state instanceof Map<?, ?> m ? (Map<String, Object>) m : view;
    return ((Number) fields.get("gold")).longValue();
  }
}
