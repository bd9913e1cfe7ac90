package dev.citadel.gateway.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.web.security.ClientAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/** What a client says about where it came from never reaches a service. */
class ForwardingFilterTest {
  @Test
  void every_forwarding_header_a_client_sends_is_dropped_whatever_its_case() {
    MockServerWebExchange exchange =
        MockServerWebExchange.from(
            MockServerHttpRequest.get("/api/game/players/p1")
                .header("X-Player-Id", "someone-else")
                .header("Forwarded", "for=203.0.113.9;proto=https")
                .header("X-Forwarded-Host", "evil.example")
                .header("x-forwarded-proto", "https")
                .header("X-Forwarded-Ssl", "on")
                .header("X-FORWARDED-URI", "/internal/anything")
                .header("X-Forwarded-For", "203.0.113.9")
                .header("X-Request-Id", "kept"));
    AtomicReference<ServerWebExchange> passed = new AtomicReference<>();
    new ForwardingFilter(new ClientAddress(List.of()), null)
        .filter(
            exchange,
            e -> {
              passed.set(e);
              return Mono.empty();
            })
        .block();

    var headers = passed.get().getRequest().getHeaders();
    assertThat(headers.headerNames())
        .filteredOn(n -> n.toLowerCase(java.util.Locale.ROOT).startsWith("x-forwarded-"))
        .containsExactly("X-Forwarded-For");
    assertThat(headers.get("X-Forwarded-For")).doesNotContain("203.0.113.9").hasSize(1);
    assertThat(headers.getFirst("Forwarded")).isNull();
    assertThat(headers.getFirst("X-Player-Id")).isNull();
    assertThat(headers.getFirst("X-Request-Id")).isEqualTo("kept");
  }
}
