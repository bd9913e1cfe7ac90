package dev.citadel.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Renders kustomizations with kubectl and parses them strictly into the fabric8 model. */
final class Manifests {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private Manifests() {}

  static Path root() {
    Path dir = Path.of("").toAbsolutePath();
    while (!Files.exists(dir.resolve("k8s"))) {
      dir = dir.getParent();
    }
    return dir;
  }

  static String kubectl() {
    return run(List.of("bash", root().resolve("deploy/ensure-kubectl.sh").toString())).trim();
  }

  /** Every object {@code kubectl kustomize dir} renders, parsed strictly. */
  static List<HasMetadata> render(Path kustomization) {
    String yaml = run(List.of(kubectl(), "kustomize", kustomization.toString()));
    List<HasMetadata> objects = new ArrayList<>();
    for (JsonNode doc : documents(yaml)) {
      objects.add(strict(doc));
    }
    return objects;
  }

  static List<JsonNode> documents(String yaml) {
    try (YAMLParser parser = (YAMLParser) YAML.getFactory().createParser(yaml)) {
      return YAML.readValues(parser, JsonNode.class).readAll().stream()
          .filter(n -> n != null && !n.isNull() && !n.isMissingNode())
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Parses one object into its typed fabric8 class; fails on an unknown kind or on ANY field the
   * model does not know (fabric8 keeps those in additionalProperties instead of failing).
   */
  static HasMetadata strict(JsonNode doc) {
    KubernetesResource resource;
    try {
      resource = YAML.treeToValue(doc, KubernetesResource.class);
    } catch (IOException e) {
      throw new AssertionError("cannot parse " + doc.path("kind") + ": " + e.getMessage(), e);
    }
    String name = doc.path("kind").asText() + "/" + doc.path("metadata").path("name").asText();
    if (resource instanceof GenericKubernetesResource || !(resource instanceof HasMetadata)) {
      throw new AssertionError(name + ": kind not in the fabric8 model (typo in apiVersion/kind?)");
    }
    List<String> unknown = new ArrayList<>();
    unknownFields(resource, name, unknown, new IdentityHashMap<>());
    if (!unknown.isEmpty()) {
      throw new AssertionError("unknown fields: " + unknown);
    }
    return (HasMetadata) resource;
  }

  private static void unknownFields(
      Object value, String path, List<String> unknown, Map<Object, Boolean> seen) {
    if (value == null || seen.put(value, true) != null) {
      return;
    }
    if (value instanceof Collection<?> c) {
      int i = 0;
      for (Object o : c) {
        unknownFields(o, path + "[" + i++ + "]", unknown, seen);
      }
      return;
    }
    if (value instanceof Map<?, ?> m) {
      m.forEach((k, v) -> unknownFields(v, path + "." + k, unknown, seen));
      return;
    }
    if (!value.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Class<?> c = value.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        f.setAccessible(true);
        Object fieldValue;
        try {
          fieldValue = f.get(value);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
        if (f.getName().equals("additionalProperties") && fieldValue instanceof Map<?, ?> extra) {
          if (!extra.isEmpty()) {
            unknown.add(path + ": " + extra.keySet());
          }
          continue;
        }
        unknownFields(fieldValue, path + "." + f.getName(), unknown, seen);
      }
    }
  }

  static String run(List<String> command) {
    try {
      Path out = Files.createTempFile("citadel-cmd", ".out");
      Process p =
          new ProcessBuilder(command)
              .redirectOutput(out.toFile())
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
        p.destroyForcibly();
        throw new AssertionError("failed: " + command);
      }
      String text = Files.readString(out, StandardCharsets.UTF_8);
      Files.delete(out);
      return text;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  static Set<String> placeholders(String text) {
    Set<String> names = new java.util.TreeSet<>();
    var m = java.util.regex.Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)(:[^}]*)?}").matcher(text);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
