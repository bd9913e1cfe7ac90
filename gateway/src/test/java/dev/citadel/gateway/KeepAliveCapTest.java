package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.FreePorts;
import dev.citadel.infra.junit.CitadelInfra;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * A client's kept-alive connection to the gateway ends after 1,000 requests (the 1,000th answer
 * says {@code Connection: close}), so clients spread over replicas added after they connected.
 */
@CitadelInfra
class KeepAliveCapTest {
  @Test
  void a_connection_is_closed_after_its_thousandth_request() {
    try (ConfigurableApplicationContext gateway =
        TestGateways.start("http://127.0.0.1:" + FreePorts.next())) {
      ConnectionProvider one = ConnectionProvider.create("keep-alive-cap", 1);
      try {
        Set<Object> connections = ConcurrentHashMap.newKeySet();
        HttpClient client =
            HttpClient.create(one)
                .baseUrl(
                    "http://127.0.0.1:" + gateway.getEnvironment().getProperty("local.server.port"))
                .doOnConnected(c -> connections.add(c.channel().id()));
        List<String> closing = new ArrayList<>();
        for (int i = 1; i <= 1_001; i++) {
          int n = i;
          // Refused by the gateway itself (no token): the cap is the gateway's server's.
          client
              .get()
              .uri("/api/game/players/p-1")
              .responseSingle(
                  (response, body) -> {
                    assertThat(response.status().code()).isEqualTo(401);
                    if ("close".equalsIgnoreCase(response.responseHeaders().get("Connection"))) {
                      closing.add(Integer.toString(n));
                    }
                    return body.asString().defaultIfEmpty("");
                  })
              .block(Duration.ofSeconds(10));
        }
        assertThat(closing).containsExactly("1000");
        assertThat(connections).hasSize(2);
      } finally {
        one.disposeLater().block(Duration.ofSeconds(10));
      }
    }
  }
}
