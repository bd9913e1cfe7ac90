package dev.citadel.gamestate.notifications;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PlayerSocketsTest {
  final PlayerSockets<String> sockets = new PlayerSockets<>(2);

  @Test
  void one_more_than_the_bound_pushes_the_players_oldest_out() {
    assertThat(sockets.add("ann", "a1")).isEmpty();
    assertThat(sockets.add("ann", "a2")).isEmpty();
    assertThat(sockets.add("bob", "b1")).as("another player's count is his own").isEmpty();
    assertThat(sockets.add("ann", "a3")).containsExactly("a1");
    assertThat(sockets.add("ann", "a4")).containsExactly("a2");
  }

  @Test
  void a_closed_socket_frees_its_place_and_removing_twice_is_harmless() {
    sockets.add("ann", "a1");
    sockets.add("ann", "a2");
    sockets.remove("ann", "a1");
    sockets.remove("ann", "a1");
    sockets.remove("nobody", "x");
    assertThat(sockets.add("ann", "a3")).isEmpty();
    assertThat(sockets.add("ann", "a4")).containsExactly("a2");
  }
}
