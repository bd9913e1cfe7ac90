package dev.citadel.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The NetworkPolicies of the minikube overlay, evaluated as Kubernetes does for ingress: every pod
 * port is reachable exactly from the sources the design lists, and from nothing else. Sources are
 * every workload's pods, a game server, a load generator, some other pod, and the world outside.
 */
class NetworkPolicyTest {
  static final Path OVERLAY = Manifests.root().resolve("k8s/overlays/minikube");
  static final String OUTSIDE = "outside";

  /** "source -> target:port", every edge the design needs. */
  static final Set<String> EXPECTED =
      new TreeSet<>(
          List.of(
              // clients -> gateway
              "outside -> gateway:8080",
              "game-server -> gateway:8080",
              "loadtest -> gateway:8080",
              "other-pod -> gateway:8080",
              "gateway -> gateway:8080",
              "member-service -> gateway:8080",
              "match-service -> gateway:8080",
              "game-state -> gateway:8080",
              "postgres -> gateway:8080",
              "redis -> gateway:8080",
              "kafka -> gateway:8080",
              "prometheus -> gateway:8080",
              "grafana -> gateway:8080",
              // gateway, match-service (tokens), game servers and load tests (tokens) -> member
              "gateway -> member-service:8080",
              "match-service -> member-service:8080",
              "game-state -> member-service:8080",
              "game-server -> member-service:8080",
              "loadtest -> member-service:8080",
              // gateway and load tests (bulk) -> match
              "gateway -> match-service:8080",
              "loadtest -> match-service:8080",
              // gateway, other game-state pods (2PC), match-service (ratings), game servers
              "gateway -> game-state:8080",
              "game-state -> game-state:8080",
              "match-service -> game-state:8080",
              "game-server -> game-state:8080",
              // Prometheus -> every management port
              "prometheus -> gateway:8081",
              "prometheus -> member-service:8081",
              "prometheus -> match-service:8081",
              "prometheus -> game-state:8081",
              // services -> their infrastructure
              "member-service -> postgres:5432",
              "game-state -> postgres:5432",
              "gateway -> redis:6379",
              "member-service -> redis:6379",
              "match-service -> redis:6379",
              "game-state -> redis:6379",
              "member-service -> kafka:9092",
              "match-service -> kafka:9092",
              "game-state -> kafka:9092",
              "kafka -> kafka:9092",
              "kafka -> kafka:9093",
              "grafana -> prometheus:9090",
              // operators -> dashboards
              "outside -> grafana:3000",
              "game-server -> grafana:3000",
              "loadtest -> grafana:3000",
              "other-pod -> grafana:3000",
              "gateway -> grafana:3000",
              "member-service -> grafana:3000",
              "match-service -> grafana:3000",
              "game-state -> grafana:3000",
              "postgres -> grafana:3000",
              "redis -> grafana:3000",
              "kafka -> grafana:3000",
              "prometheus -> grafana:3000",
              "grafana -> grafana:3000"));

  record Pod(String name, Map<String, String> labels, Set<Integer> ports) {}

  @Test
  void every_port_is_reachable_exactly_from_the_sources_the_design_lists() {
    List<HasMetadata> objects = Manifests.render(OVERLAY);
    List<NetworkPolicy> policies = KubernetesManifestsTest.of(objects, NetworkPolicy.class);
    assertThat(policies).as("a default deny").anyMatch(NetworkPolicyTest::deniesAll);

    List<Pod> pods = new ArrayList<>();
    for (HasMetadata w : KubernetesManifestsTest.workloads(objects)) {
      var template = KubernetesManifestsTest.template(w);
      Set<Integer> ports = new TreeSet<>();
      template
          .getSpec()
          .getContainers()
          .forEach(
              c -> c.getPorts().stream().map(ContainerPort::getContainerPort).forEach(ports::add));
      pods.add(new Pod(w.getMetadata().getName(), template.getMetadata().getLabels(), ports));
    }
    Map<String, Map<String, String>> sources = new LinkedHashMap<>();
    sources.put(OUTSIDE, null);
    pods.forEach(p -> sources.put(p.name(), p.labels()));
    sources.put("game-server", Map.of("citadel.dev/role", "game-server"));
    sources.put("loadtest", Map.of("citadel.dev/role", "loadtest"));
    sources.put("other-pod", Map.of("app.kubernetes.io/name", "something-else"));

    Set<String> allowed = new TreeSet<>();
    for (Pod target : pods) {
      for (int port : target.ports()) {
        sources.forEach(
            (source, labels) -> {
              if (allows(policies, target.labels(), port, labels)) {
                allowed.add(source + " -> " + target.name() + ":" + port);
              }
            });
      }
    }
    assertThat(allowed).isEqualTo(EXPECTED);
  }

  static boolean deniesAll(NetworkPolicy p) {
    return selects(p.getSpec().getPodSelector(), Map.of("any", "pod"))
        && (p.getSpec().getIngress() == null || p.getSpec().getIngress().isEmpty())
        && p.getSpec().getPolicyTypes().contains("Ingress");
  }

  /**
   * Ingress semantics: a pod no policy selects is open; a selected pod admits a connection when
   * some rule of some selecting policy matches both the port and the source.
   */
  static boolean allows(
      List<NetworkPolicy> policies,
      Map<String, String> target,
      int port,
      Map<String, String> source) {
    List<NetworkPolicy> selecting =
        policies.stream()
            .filter(p -> p.getSpec().getPolicyTypes().contains("Ingress"))
            .filter(p -> selects(p.getSpec().getPodSelector(), target))
            .toList();
    if (selecting.isEmpty()) {
      return true;
    }
    for (NetworkPolicy p : selecting) {
      for (NetworkPolicyIngressRule rule : p.getSpec().getIngress()) {
        if (portMatches(rule.getPorts(), port) && sourceMatches(rule.getFrom(), source)) {
          return true;
        }
      }
    }
    return false;
  }

  static boolean portMatches(List<NetworkPolicyPort> ports, int port) {
    if (ports == null || ports.isEmpty()) {
      return true;
    }
    for (NetworkPolicyPort p : ports) {
      assertThat(p.getPort().getIntVal()).as("policies name ports by number").isNotNull();
      if (p.getPort().getIntVal() == port) {
        return true;
      }
    }
    return false;
  }

  static boolean sourceMatches(List<NetworkPolicyPeer> from, Map<String, String> source) {
    if (from == null || from.isEmpty()) {
      return true; // any source, inside or outside the cluster
    }
    if (source == null) {
      return false; // outside the cluster: only ipBlocks, which these policies do not use
    }
    for (NetworkPolicyPeer peer : from) {
      assertThat(peer.getIpBlock()).as("no ipBlock peers").isNull();
      assertThat(peer.getNamespaceSelector()).as("same namespace only").isNull();
      if (selects(peer.getPodSelector(), source)) {
        return true;
      }
    }
    return false;
  }

  static boolean selects(LabelSelector selector, Map<String, String> labels) {
    if (selector == null) {
      return false;
    }
    assertThat(selector.getMatchExpressions()).as("matchLabels only").isNullOrEmpty();
    Map<String, String> wanted =
        selector.getMatchLabels() == null ? Map.of() : selector.getMatchLabels();
    return labels.entrySet().containsAll(wanted.entrySet());
  }
}
