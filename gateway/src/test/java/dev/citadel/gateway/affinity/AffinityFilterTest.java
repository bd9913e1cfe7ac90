package dev.citadel.gateway.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.api.Test;

class AffinityFilterTest {
  @Test
  void a_request_goes_to_the_owners_host_and_port_with_path_and_query_as_they_came() {
    assertThat(
            AffinityFilter.routed(
                URI.create("http://game-state:8083/api/game/players/p%201?x=a%2Fb"),
                URI.create("http://10.0.0.7:9000")))
        .hasToString("http://10.0.0.7:9000/api/game/players/p%201?x=a%2Fb");
  }

  @Test
  void an_instance_listed_as_https_is_called_over_tls_and_its_sockets_as_wss() {
    URI owner = URI.create("https://gs-1.internal:8443");
    assertThat(AffinityFilter.routed(URI.create("http://game-state:8083/api/game/x"), owner))
        .hasToString("https://gs-1.internal:8443/api/game/x");
    assertThat(AffinityFilter.routed(URI.create("ws://game-state:8083/ws"), owner))
        .hasToString("wss://gs-1.internal:8443/ws");
    assertThat(
            AffinityFilter.routed(
                URI.create("ws://game-state:8083/ws"), URI.create("http://10.0.0.7:9000")))
        .hasToString("ws://10.0.0.7:9000/ws");
  }
}
