package dev.citadel.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RendezvousTest {
  static final List<String> PLAYERS =
      IntStream.range(0, 20_000).mapToObj(i -> "player-" + i).toList();
  static final List<String> THREE =
      List.of("http://10.0.0.1:8083", "http://10.0.0.2:8083", "http://10.0.0.3:8083");

  static Map<String, String> owners(List<String> nodes) {
    Map<String, String> owners = new HashMap<>();
    for (String p : PLAYERS) {
      owners.put(p, Rendezvous.pick(p, nodes, Function.identity()).orElseThrow());
    }
    return owners;
  }

  @Test
  void the_same_nodes_in_any_order_give_the_same_owner() {
    assertThat(owners(THREE)).isEqualTo(owners(List.of(THREE.get(2), THREE.get(0), THREE.get(1))));
  }

  @Test
  void players_spread_evenly() {
    Map<String, Long> counts =
        owners(THREE).values().stream()
            .collect(Collectors.groupingBy(n -> n, Collectors.counting()));
    assertThat(counts).hasSize(3);
    counts.values().forEach(c -> assertThat(c).isBetween(6_000L, 7_300L));
  }

  @Test
  void adding_a_node_moves_about_a_quarter_and_only_to_the_new_node() {
    Map<String, String> before = owners(THREE);
    String fourth = "http://10.0.0.4:8083";
    Map<String, String> after = owners(List.of(THREE.get(0), THREE.get(1), THREE.get(2), fourth));
    long moved = PLAYERS.stream().filter(p -> !before.get(p).equals(after.get(p))).count();
    assertThat(moved / (double) PLAYERS.size()).isBetween(0.23, 0.27);
    PLAYERS.stream()
        .filter(p -> !before.get(p).equals(after.get(p)))
        .forEach(p -> assertThat(after.get(p)).isEqualTo(fourth));
  }

  @Test
  void removing_a_node_moves_only_its_players() {
    Map<String, String> before = owners(THREE);
    Map<String, String> after = owners(List.of(THREE.get(0), THREE.get(2)));
    for (String p : PLAYERS) {
      if (!before.get(p).equals(THREE.get(1))) {
        assertThat(after.get(p)).isEqualTo(before.get(p));
      } else {
        assertThat(after.get(p)).isNotEqualTo(THREE.get(1));
      }
    }
  }

  @Test
  void no_nodes_means_no_owner() {
    assertThat(Rendezvous.pick("p", List.<String>of(), Function.identity())).isEmpty();
  }
}
