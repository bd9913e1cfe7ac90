package dev.citadel.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.affinity.Rendezvous;
import dev.citadel.gateway.GatewayEndToEndTest.Player;
import dev.citadel.infra.FreePorts;
import dev.citadel.infra.platform.ServiceProcess;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * Scaling game-state as Kubernetes does it, with the gateway in the {@code kubernetes} profile: the
 * headless Service's name resolves to one address per ready pod. Here the name lives in a hosts
 * file the gateway's JVM reads ({@code jdk.net.hosts.file}), and three game-state instances listen
 * on 127.0.0.2, 127.0.0.3 and 127.0.0.4 on one port, as pods do on their own IPs. The gateway
 * caches a lookup for 5 s ({@code networkaddress.cache.ttl}, set by GatewayApplication). An address
 * added moves to it exactly the players rendezvous hashing gives it; an address removed (its
 * instance then stopped) moves only that instance's players, and their state is intact.
 */
class DnsScalingTest {
  static final String NAME = "game-state.citadel.test";
  static final String INSTANCE = GatewayEndToEndTest.INSTANCE;
  static Cluster cluster;
  static int port;
  static Path hosts;
  static WebTestClient gateway;
  static final Map<String, URI> ADDRESSES = new HashMap<>();

  @BeforeAll
  static void start() throws Exception {
    cluster = new Cluster().start(0);
    port = FreePorts.next();
    List<URI> all = new ArrayList<>();
    for (int i = 2; i <= 4; i++) {
      all.add(URI.create("http://127.0.0." + i + ":" + port));
    }
    List<ServiceProcess> started = new ArrayList<>();
    for (int i = 2; i <= 4; i++) {
      started.add(cluster.launchGameStateAt("gs-" + i, "127.0.0." + i, port, all));
      ADDRESSES.put("gs-" + i, all.get(i - 2));
    }
    hosts = Path.of("target", "dns-scaling-hosts").toAbsolutePath();
    publish("gs-2", "gs-3");
    ServiceProcess g = cluster.gatewayProcess(NAME, port, hosts);
    started.add(g);
    for (ServiceProcess p : started) {
      p.awaitHealthy(Cluster.STARTUP);
    }
    gateway =
        WebTestClient.bindToServer()
            .baseUrl(g.url().toString())
            .responseTimeout(Duration.ofSeconds(30))
            .build();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** The Service's records: the name resolves to these instances' addresses. */
  static void publish(String... instances) throws Exception {
    StringBuilder file =
        new StringBuilder("127.0.0.1 localhost " + InetAddress.getLocalHost().getHostName() + "\n");
    for (String instance : instances) {
      file.append(ADDRESSES.get(instance).getHost()).append(' ').append(NAME).append('\n');
    }
    Path next = hosts.resolveSibling(hosts.getFileName() + ".next");
    Files.writeString(next, file);
    Files.move(next, hosts, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  record Read(String instance, long gold) {}

  static Read read(Player p) {
    var result =
        gateway
            .get()
            .uri("/api/game/players/{id}", p.id())
            .headers(h -> h.setBearerAuth(p.token()))
            .exchange()
            .expectStatus()
            .isOk()
            .returnResult(Map.class);
    Map<?, ?> body = result.getResponseBody().blockFirst(Duration.ofSeconds(30));
    return new Read(
        result.getResponseHeaders().getFirst(INSTANCE), ((Number) body.get("gold")).longValue());
  }

  /** Who rendezvous hashing says owns each player among {@code instances}. */
  static Map<String, String> expected(List<Player> players, String... instances) {
    List<URI> uris = new ArrayList<>();
    Map<URI, String> names = new HashMap<>();
    for (String i : instances) {
      uris.add(ADDRESSES.get(i));
      names.put(ADDRESSES.get(i), i);
    }
    Map<String, String> owners = new HashMap<>();
    for (Player p : players) {
      owners.put(p.id(), names.get(Rendezvous.pick(p.id(), uris, URI::toString).orElseThrow()));
    }
    return owners;
  }

  /** Waits until the gateway routes every player to the owner hashing gives; answers the reads. */
  static Map<String, Read> routedAs(List<Player> players, Map<String, String> owners) {
    Map<String, Read> reads = new HashMap<>();
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> {
              for (Player p : players) {
                Read r = read(p);
                assertThat(r.instance()).as("owner of %s", p.id()).isEqualTo(owners.get(p.id()));
                reads.put(p.id(), r);
              }
            });
    return reads;
  }

  static String gameServer;

  /** A game server's grant, straight to the instance that owns the player now. */
  static void grant(Player p, String owner, long gold) {
    WebTestClient.bindToServer()
        .baseUrl(ADDRESSES.get(owner).toString())
        .responseTimeout(Duration.ofSeconds(30))
        .build()
        .post()
        .uri("/internal/players/{id}/grants", p.id())
        .headers(h -> h.setBearerAuth(gameServer))
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue("{\"rewardId\":\"" + UUID.randomUUID() + "\",\"gold\":" + gold + "}")
        .exchange()
        .expectStatus()
        .isOk();
  }

  @Test
  void adding_and_removing_an_address_moves_exactly_the_players_hashing_says() throws Exception {
    gameServer = cluster.gameServerToken();
    List<Player> players = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      Player p = GatewayEndToEndTest.signUpAndLogIn(gateway);
      players.add(p);
      await()
          .atMost(Duration.ofSeconds(30))
          .ignoreExceptions()
          .until(() -> read(p).instance() != null);
    }
    Map<String, Long> gold = new HashMap<>();
    // Two pods ready.
    Map<String, Read> two = routedAs(players, expected(players, "gs-2", "gs-3"));
    for (int i = 0; i < players.size(); i++) {
      Player p = players.get(i);
      grant(p, two.get(p.id()).instance(), 100 + i);
      gold.put(p.id(), 100L + i);
    }

    // A third becomes ready: only the players hashing gives it move, all of them to it.
    publish("gs-2", "gs-3", "gs-4");
    Map<String, Read> three = routedAs(players, expected(players, "gs-2", "gs-3", "gs-4"));
    List<Player> onFour = new ArrayList<>();
    for (Player p : players) {
      String before = two.get(p.id()).instance();
      String after = three.get(p.id()).instance();
      if (!before.equals(after)) {
        assertThat(after).as("%s moved, only to the new instance", p.id()).isEqualTo("gs-4");
        onFour.add(p);
      }
      assertThat(three.get(p.id()).gold()).isEqualTo(gold.get(p.id()));
    }
    assertThat(onFour).as("the new instance takes its share").isNotEmpty();
    // While there, they play: their state now includes what gs-4 did.
    for (Player p : onFour) {
      grant(p, "gs-4", 1000);
      gold.merge(p.id(), 1000L, Long::sum);
    }

    // Scaled back to two: its address goes, then the pod. Only its players move; nothing is lost.
    // Routing follows the records alone: gs-4 is still up and healthy when its players move.
    publish("gs-2", "gs-3");
    Map<String, Read> back = routedAs(players, expected(players, "gs-2", "gs-3"));
    cluster.stop("gs-4");
    for (Player p : players) {
      if (!onFour.contains(p)) {
        assertThat(back.get(p.id()).instance())
            .as("%s was not on the removed instance: stays", p.id())
            .isEqualTo(three.get(p.id()).instance());
      }
      assertThat(back.get(p.id()).gold())
          .as("state of %s intact", p.id())
          .isEqualTo(gold.get(p.id()));
    }
  }
}
