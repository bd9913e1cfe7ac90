package dev.citadel.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kustomization renders with kubectl, parses strictly, and agrees with the build (images) and
 * with what each service reads (environment placeholders in its application.yml).
 */
class KubernetesManifestsTest {
  static final Path ROOT = Manifests.root();

  /**
   * Keys a service may leave out: their defaults are right in a cluster too, or (the static
   * game-state list) the kubernetes profile does not use them.
   */
  static final Set<String> OPTIONAL =
      Set.of(
          "CITADEL_RATE_LIMIT_PER_SECOND",
          // The gateway trusts no proxy unless an ingress in front of it is configured.
          "CITADEL_TRUSTED_PROXIES",
          "CITADEL_RATE_LIMIT_BURST",
          // How long the gateway waits for a service's answer: a tuning knob, 15 s by default.
          "CITADEL_GATEWAY_RESPONSE_TIMEOUT",
          // The direct game path: on by default everywhere; false is for A/B runs and doubt.
          "CITADEL_GATEWAY_DIRECT_GAME_PATH",
          // The proxy pool's connections per address: a tuning knob, 512 by default.
          "CITADEL_GATEWAY_MAX_CONNECTIONS",
          "CITADEL_JWT_KEY_ID",
          // Static instance lists: the kubernetes profile discovers game-state through DNS, and
          // game-state's coordinator then runs every participant in-process (see issue #6).
          "CITADEL_GAME_STATE_URLS",
          "CITADEL_SELF_URL");

  static Stream<Path> overlays() throws IOException {
    try (Stream<Path> dirs = Files.list(ROOT.resolve("k8s/overlays"))) {
      return dirs
          .filter(d -> Files.exists(d.resolve("kustomization.yaml")))
          .sorted()
          .toList()
          .stream();
    }
  }

  @Test
  void match_service_is_replaced_whole_never_rolled() {
    // Two versions side by side would share Redis keys and presence sequences they disagree on.
    List<HasMetadata> objects = Manifests.render(ROOT.resolve("k8s/base"));
    Deployment match =
        of(objects, Deployment.class).stream()
            .filter(d -> d.getMetadata().getName().equals("match-service"))
            .findFirst()
            .orElseThrow();
    assertThat(match.getSpec().getStrategy().getType()).isEqualTo("Recreate");
  }

  @Test
  void the_base_renders_and_parses_strictly() {
    List<HasMetadata> objects = Manifests.render(ROOT.resolve("k8s/base"));
    assertThat(objects).extracting(HasMetadata::getKind).contains("Deployment", "StatefulSet");
    assertThat(objects).noneMatch(o -> o instanceof Secret); // no secret in plain text in the base
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void every_workload_has_probes_resources_and_a_service_that_selects_it(Path overlay) {
    List<HasMetadata> objects = Manifests.render(overlay);
    List<Service> services = of(objects, Service.class);
    for (HasMetadata workload : workloads(objects)) {
      PodTemplateSpec pod = template(workload);
      for (Container c : pod.getSpec().getContainers()) {
        String name = workload.getMetadata().getName() + "/" + c.getName();
        assertThat(c.getReadinessProbe()).as("readiness probe of %s", name).isNotNull();
        assertThat(c.getLivenessProbe()).as("liveness probe of %s", name).isNotNull();
        assertThat(c.getResources().getRequests())
            .as("requests of %s", name)
            .containsKeys("cpu", "memory");
        assertThat(c.getResources().getLimits()).as("limits of %s", name).containsKey("memory");
      }
      Map<String, String> labels = pod.getMetadata().getLabels();
      assertThat(services)
          .as("a Service selecting %s", workload.getMetadata().getName())
          .anyMatch(
              s ->
                  s.getSpec().getSelector() != null
                      && labels.entrySet().containsAll(s.getSpec().getSelector().entrySet()));
    }
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void every_citadel_image_is_one_the_build_produces_and_others_are_pinned(Path overlay)
      throws IOException {
    Set<String> produced = producedImages();
    assertThat(produced).hasSize(4);
    Set<String> used = new HashSet<>();
    for (HasMetadata workload : workloads(Manifests.render(overlay))) {
      for (Container c : template(workload).getSpec().getContainers()) {
        String image = c.getImage();
        if (image.startsWith("citadel/")) {
          assertThat(produced).as("image of %s", workload.getMetadata().getName()).contains(image);
          used.add(image);
        } else {
          assertThat(image)
              .as("third-party images are pinned")
              .matches(".+:[^:]+")
              .doesNotEndWith(":latest");
        }
      }
    }
    assertThat(used).as("every service is deployed").isEqualTo(produced);
  }

  /**
   * Health and metrics stay off every Service: no Service port targets a container's management
   * port (by name or number), so only the kubelet and Prometheus, straight at the pod, reach it.
   */
  @ParameterizedTest
  @MethodSource("overlays")
  void no_service_exposes_a_management_port(Path overlay) {
    List<HasMetadata> objects = Manifests.render(overlay);
    Set<String> management = new HashSet<>();
    for (HasMetadata workload : workloads(objects)) {
      for (Container c : template(workload).getSpec().getContainers()) {
        if (c.getPorts() == null) {
          continue;
        }
        c.getPorts().stream()
            .filter(p -> "management".equals(p.getName()))
            .forEach(
                p -> {
                  management.add("management");
                  management.add(String.valueOf(p.getContainerPort()));
                });
      }
    }
    assertThat(management).as("the services declare their management port").isNotEmpty();
    for (io.fabric8.kubernetes.api.model.Service service :
        of(objects, io.fabric8.kubernetes.api.model.Service.class)) {
      for (var port : service.getSpec().getPorts()) {
        String target =
            port.getTargetPort() == null
                ? String.valueOf(port.getPort())
                : port.getTargetPort().getStrVal() != null
                    ? port.getTargetPort().getStrVal()
                    : String.valueOf(port.getTargetPort().getIntVal());
        assertThat(management)
            .as("Service %s port %s", service.getMetadata().getName(), port.getName())
            .doesNotContain(target);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void every_config_key_a_service_reads_is_provided(Path overlay) throws IOException {
    List<HasMetadata> objects = Manifests.render(overlay);
    Map<String, ConfigMap> configMaps = byName(of(objects, ConfigMap.class));
    Map<String, Secret> secrets = byName(of(objects, Secret.class));
    for (HasMetadata workload : workloads(objects)) {
      for (Container c : template(workload).getSpec().getContainers()) {
        if (!c.getImage().startsWith("citadel/")) {
          continue;
        }
        String module = c.getImage().substring("citadel/".length(), c.getImage().indexOf(':'));
        Set<String> provided = new HashSet<>();
        for (EnvVar e : c.getEnv()) {
          provided.add(e.getName());
          if (e.getValueFrom() != null
              && e.getValueFrom().getSecretKeyRef() != null
              && !Boolean.TRUE.equals(e.getValueFrom().getSecretKeyRef().getOptional())) {
            var ref = e.getValueFrom().getSecretKeyRef();
            assertThat(secrets).as("Secret %s", ref.getName()).containsKey(ref.getName());
            Map<String, String> data = new HashMap<>();
            Optional.ofNullable(secrets.get(ref.getName()).getData()).ifPresent(data::putAll);
            Optional.ofNullable(secrets.get(ref.getName()).getStringData()).ifPresent(data::putAll);
            assertThat(data)
                .as("key %s of Secret %s", ref.getKey(), ref.getName())
                .containsKey(ref.getKey());
          }
        }
        for (EnvFromSource from : c.getEnvFrom()) {
          String name = from.getConfigMapRef().getName();
          assertThat(configMaps).as("ConfigMap %s", name).containsKey(name);
          provided.addAll(configMaps.get(name).getData().keySet());
        }
        Set<String> read =
            Manifests.placeholders(
                Files.readString(
                    ROOT.resolve(module).resolve("src/main/resources/application.yml")));
        read.removeAll(OPTIONAL);
        assertThat(provided)
            .as("environment of %s (%s)", workload.getMetadata().getName(), module)
            .containsAll(read);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void game_state_statefulset_headless_service_and_gateway_discovery_agree(Path overlay)
      throws IOException {
    List<HasMetadata> objects = Manifests.render(overlay);
    StatefulSet gameState =
        of(objects, StatefulSet.class).stream()
            .filter(s -> image(template(s)).startsWith("citadel/game-state-service:"))
            .findFirst()
            .orElseThrow();
    Service headless = byName(of(objects, Service.class)).get(gameState.getSpec().getServiceName());
    assertThat(headless).as("the StatefulSet's serviceName is a Service").isNotNull();
    assertThat(headless.getSpec().getClusterIP()).as("headless").isEqualTo("None");
    assertThat(headless.getSpec().getPublishNotReadyAddresses())
        .as("only ready pods resolve")
        .isNotEqualTo(true);
    assertThat(gameState.getSpec().getTemplate().getMetadata().getLabels())
        .containsAllEntriesOf(headless.getSpec().getSelector());

    // The gateway's kubernetes profile: DNS discovery of that name, on that port.
    JsonNode profile =
        kubernetesProfile(ROOT.resolve("gateway/src/main/resources/application.yml"));
    JsonNode discovery = profile.path("citadel").path("gateway").path("game-state");
    assertThat(discovery.path("discovery").asText()).isEqualTo("dns");
    int dnsPort = discovery.path("dns-port").asInt();
    assertThat(headless.getSpec().getPorts()).anyMatch(p -> p.getPort() == dnsPort);

    Deployment gateway =
        of(objects, Deployment.class).stream()
            .filter(d -> image(template(d)).startsWith("citadel/gateway:"))
            .findFirst()
            .orElseThrow();
    Map<String, String> env =
        environment(template(gateway).getSpec().getContainers().get(0), objects);
    assertThat(env.get("SPRING_PROFILES_ACTIVE")).contains("kubernetes");
    String dnsName = resolve(discovery.path("dns-name").asText(), env);
    assertThat(dnsName)
        .as("gateway resolves the headless Service")
        .isEqualTo(headless.getMetadata().getName());

    // game-state listens where the Service and the gateway expect it.
    Map<String, String> gsEnv =
        environment(template(gameState).getSpec().getContainers().get(0), objects);
    assertThat(gsEnv.get("SERVER_PORT")).isEqualTo(String.valueOf(dnsPort));
  }

  @Test
  void grafana_dashboards_in_the_overlay_are_the_ones_in_infra() throws IOException {
    Path infra = ROOT.resolve("infra/grafana/dashboards");
    try (Stream<Path> files = Files.list(infra)) {
      for (Path dashboard : files.toList()) {
        Path copy = ROOT.resolve("k8s/overlays/minikube/grafana").resolve(dashboard.getFileName());
        assertThat(copy).exists();
        assertThat(Files.readString(copy)).isEqualTo(Files.readString(dashboard));
      }
    }
  }

  @Test
  void prometheus_alerts_in_the_overlay_are_the_ones_in_infra() throws IOException {
    assertThat(Files.readString(ROOT.resolve("k8s/overlays/minikube/prometheus/alerts.yml")))
        .isEqualTo(Files.readString(ROOT.resolve("infra/prometheus/alerts.yml")));
  }

  // --- helpers

  static Set<String> producedImages() throws IOException {
    String parent = Files.readString(ROOT.resolve("pom.xml"));
    Matcher v =
        Pattern.compile("<artifactId>citadel-parent</artifactId>\\s*<version>([^<]+)</version>")
            .matcher(parent);
    assertThat(v.find()).isTrue();
    Set<String> images = new HashSet<>();
    try (Stream<Path> modules = Files.list(ROOT)) {
      for (Path pom : modules.map(m -> m.resolve("pom.xml")).filter(Files::exists).toList()) {
        if (pom.getParent().equals(ROOT)) {
          continue;
        }
        String text = Files.readString(pom);
        if (text.contains("<artifactId>jib-maven-plugin</artifactId>")) {
          images.add("citadel/" + pom.getParent().getFileName() + ":" + v.group(1));
        }
      }
    }
    return images;
  }

  static JsonNode kubernetesProfile(Path applicationYml) throws IOException {
    for (JsonNode doc : Manifests.documents(Files.readString(applicationYml))) {
      if ("kubernetes"
          .equals(doc.path("spring").path("config").path("activate").path("on-profile").asText())) {
        return doc;
      }
    }
    throw new AssertionError("no kubernetes profile in " + applicationYml);
  }

  /** ${NAME:default} against the container's environment. */
  static String resolve(String value, Map<String, String> env) {
    Matcher m = Pattern.compile("\\$\\{([A-Z0-9_]+)(?::([^}]*))?}").matcher(value);
    if (!m.matches()) {
      return value;
    }
    return env.getOrDefault(m.group(1), m.group(2));
  }

  static Map<String, String> environment(Container c, List<HasMetadata> objects) {
    Map<String, String> env = new HashMap<>();
    Map<String, ConfigMap> configMaps = byName(of(objects, ConfigMap.class));
    for (EnvFromSource from : c.getEnvFrom()) {
      env.putAll(configMaps.get(from.getConfigMapRef().getName()).getData());
    }
    for (EnvVar e : c.getEnv()) {
      if (e.getValue() != null) {
        env.put(e.getName(), e.getValue());
      }
    }
    return env;
  }

  static List<HasMetadata> workloads(List<HasMetadata> objects) {
    List<HasMetadata> w = new ArrayList<>(of(objects, Deployment.class));
    w.addAll(of(objects, StatefulSet.class));
    return w;
  }

  static PodTemplateSpec template(HasMetadata workload) {
    return workload instanceof Deployment d
        ? d.getSpec().getTemplate()
        : ((StatefulSet) workload).getSpec().getTemplate();
  }

  static String image(PodTemplateSpec pod) {
    return pod.getSpec().getContainers().get(0).getImage();
  }

  static <T extends HasMetadata> List<T> of(List<HasMetadata> objects, Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  static <T extends HasMetadata> Map<String, T> byName(List<T> objects) {
    Map<String, T> m = new HashMap<>();
    objects.forEach(o -> m.put(o.getMetadata().getName(), o));
    return m;
  }
}
