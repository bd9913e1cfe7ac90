package dev.citadel.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.platform.LocalPlatform;
import dev.citadel.infra.platform.ServiceLaunch;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The manifests in k8s/base against the images the build makes (the root POM's Jib configuration)
 * and how ./run-images.sh runs them: ports, the user, probe paths the services serve, a read-only
 * root file system with a writable /tmp.
 */
class ImagesMatchManifestsTest {
  static final Path ROOT = Manifests.root();

  /** The container part of the root POM's Jib configuration. */
  record Image(Set<Integer> ports, String user, Map<String, String> environment) {
    static Image fromPom() throws IOException {
      String pom = Files.readString(ROOT.resolve("pom.xml"));
      String container = between(pom, "<container>", "</container>");
      Set<Integer> ports =
          matches(between(container, "<ports>", "</ports>"), "<port>(\\d+)</port>").stream()
              .map(Integer::valueOf)
              .collect(Collectors.toSet());
      String user = between(container, "<user>", "</user>").trim();
      Map<String, String> env = new HashMap<>();
      Matcher m =
          Pattern.compile("<([A-Z_]+)>([^<]*)</\\1>")
              .matcher(between(container, "<environment>", "</environment>"));
      while (m.find()) {
        env.put(m.group(1), m.group(2));
      }
      return new Image(ports, user, env);
    }
  }

  static String between(String text, String open, String close) {
    int a = text.indexOf(open);
    int b = text.indexOf(close, a);
    assertThat(a).as(open).isNotNegative();
    return text.substring(a + open.length(), b);
  }

  static List<String> matches(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    List<String> found = new java.util.ArrayList<>();
    while (m.find()) {
      found.add(m.group(1));
    }
    return found;
  }

  static List<HasMetadata> citadelWorkloads() {
    return KubernetesManifestsTest.workloads(Manifests.render(ROOT.resolve("k8s/base"))).stream()
        .filter(
            w ->
                KubernetesManifestsTest.image(KubernetesManifestsTest.template(w))
                    .startsWith("citadel/"))
        .toList();
  }

  @Test
  void ports_user_and_file_system_agree_with_the_images_and_how_they_run() throws IOException {
    Image image = Image.fromPom();
    assertThat(image.user())
        .as("Jib's user is ./run-images.sh's")
        .isEqualTo(ServiceLaunch.IMAGE_USER);
    List<HasMetadata> workloads = citadelWorkloads();
    assertThat(workloads).hasSize(4);
    for (HasMetadata w : workloads) {
      String name = w.getMetadata().getName();
      PodSpec pod = KubernetesManifestsTest.template(w).getSpec();
      Container c = pod.getContainers().get(0);
      Map<String, Integer> ports = new HashMap<>();
      for (ContainerPort p : c.getPorts()) {
        ports.put(p.getName(), p.getContainerPort());
      }
      assertThat(Set.copyOf(ports.values())).as("ports of %s", name).isEqualTo(image.ports());
      assertThat(ports.get("http"))
          .as("%s: the image's SERVER_PORT", name)
          .isEqualTo(Integer.valueOf(image.environment().get("SERVER_PORT")));
      assertThat(ports.get("management"))
          .as("%s: the image's MANAGEMENT_SERVER_PORT", name)
          .isEqualTo(Integer.valueOf(image.environment().get("MANAGEMENT_SERVER_PORT")));

      String[] user = image.user().split(":");
      assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
      assertThat(pod.getSecurityContext().getRunAsUser()).as(name).isEqualTo(Long.valueOf(user[0]));
      assertThat(pod.getSecurityContext().getRunAsGroup())
          .as(name)
          .isEqualTo(Long.valueOf(user[1]));

      // ./run-images.sh runs every image with --read-only and a tmpfs on /tmp: so must Kubernetes.
      assertThat(ServiceLaunch.IMAGE_RUN_OPTIONS)
          .contains("--read-only", "--tmpfs")
          .anyMatch(o -> o.startsWith("/tmp:"));
      assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).as(name).isTrue();
      assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).as(name).isFalse();
      assertThat(c.getVolumeMounts())
          .extracting(VolumeMount::getMountPath)
          .as("%s: a writable /tmp", name)
          .contains("/tmp");

      Probe ready = c.getReadinessProbe();
      assertThat(ready.getHttpGet().getPath())
          .as("%s: the path ./run-images.sh waits on", name)
          .isEqualTo(LocalPlatform.READINESS_PATH);
      assertThat(ready.getHttpGet().getPort().getStrVal()).isEqualTo("management");
      assertThat(c.getLivenessProbe().getHttpGet().getPath())
          .isEqualTo("/actuator/health/liveness");
      assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("management");
    }
  }

  /** The probe paths exist only where the service turns the probe groups on. */
  @Test
  void every_service_serves_the_probe_paths() throws IOException {
    for (String module :
        List.of("member-service", "match-service", "game-state-service", "gateway")) {
      String yml =
          Files.readString(ROOT.resolve(module).resolve("src/main/resources/application.yml"));
      assertThat(yml)
          .as("%s turns on the liveness and readiness groups", module)
          .containsPattern("probes:\\s+enabled: true");
    }
  }

  @Test
  void the_config_map_gives_the_ports_the_images_expose() throws IOException {
    Image image = Image.fromPom();
    String config = Files.readString(ROOT.resolve("k8s/base/config.yaml"));
    for (String key : List.of("SERVER_PORT", "MANAGEMENT_SERVER_PORT")) {
      assertThat(config).contains(key + ": \"" + image.environment().get(key) + "\"");
    }
  }
}
