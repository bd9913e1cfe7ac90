package dev.citadel.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ClassPathResource;
import reactor.core.publisher.Flux;

/** Each kind of discovery gives its own candidates; the Kubernetes profile resolves DNS. */
class DiscoveryTest {

  static GatewayProperties.GameState gameState(GatewayProperties.Discovery d, String dnsName) {
    return new GatewayProperties.GameState(
        d,
        List.of(URI.create("http://127.0.0.1:8083")),
        dnsName,
        8080,
        "game-state",
        Duration.ofSeconds(1),
        Duration.ofSeconds(1));
  }

  @Test
  void every_kind_of_discovery_gives_its_own_candidates() {
    var statics =
        new GatewayConfiguration.StaticInstances(List.of(URI.create("http://10.0.0.1:8083")));
    Flux<URI> fromClient = Flux.just(URI.create("http://10.0.0.9:8080"));
    assertThat(
            GatewayConfiguration.candidates(
                    gameState(GatewayProperties.Discovery.STATIC, "x"), statics, () -> fromClient)
                .get()
                .collectList()
                .block())
        .containsExactly(URI.create("http://10.0.0.1:8083"));
    assertThat(
            GatewayConfiguration.candidates(
                    gameState(GatewayProperties.Discovery.DNS, "127.0.0.1"),
                    statics,
                    () -> fromClient)
                .get()
                .collectList()
                .block())
        .containsExactly(URI.create("http://127.0.0.1:8080"));
    assertThat(
            GatewayConfiguration.candidates(
                    gameState(GatewayProperties.Discovery.DISCOVERY_CLIENT, "x"),
                    statics,
                    () -> fromClient)
                .get()
                .collectList()
                .block())
        .containsExactly(URI.create("http://10.0.0.9:8080"));
  }

  @Test
  void the_kubernetes_profile_discovers_game_state_by_dns() throws IOException {
    List<PropertySource<?>> documents =
        new YamlPropertySourceLoader()
            .load("application.yml", new ClassPathResource("application.yml"));
    PropertySource<?> kubernetes =
        documents.stream()
            .filter(d -> "kubernetes".equals(d.getProperty("spring.config.activate.on-profile")))
            .findFirst()
            .orElseThrow();
    GatewayProperties.Discovery d =
        new Binder(
                org.springframework.boot.context.properties.source.ConfigurationPropertySources
                    .from(kubernetes))
            .bind("citadel.gateway.game-state.discovery", GatewayProperties.Discovery.class)
            .get();
    assertThat(d).isEqualTo(GatewayProperties.Discovery.DNS);
  }
}
