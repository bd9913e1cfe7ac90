package dev.citadel.infra.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * How a service is launched, apart from the running process ({@link ServiceProcess}): where its jar
 * is, which java and JVM options it runs with (C1 only when a test starts it, unless benchmarking),
 * the environment it is given, and how Podman runs its image.
 */
public final class ServiceLaunch {
  private ServiceLaunch() {}

  /** The service's runnable jar ({@code MODULE-VERSION-exec.jar}), if the module has been built. */
  public static Optional<Path> jarOf(Path root, String module) {
    Path target = root.resolve(module).resolve("target");
    if (!Files.isDirectory(target)) {
      return Optional.empty();
    }
    try (Stream<Path> files = Files.list(target)) {
      return files
          .filter(p -> p.getFileName().toString().startsWith(module + "-"))
          .filter(p -> p.getFileName().toString().endsWith("-exec.jar"))
          .findFirst();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The tests' start-up cache of the project at {@code root}: apart from the launcher's ({@code
   * target/startup-cache}), because a new build's first start removes the extracted jars of the
   * builds before it, which a running {@code ./run-local.sh} may still be loading classes from.
   */
  public static Path testsStartupCache(Path root) {
    return root.resolve("target").resolve("startup-cache-tests");
  }

  /** The user the images run as, as the manifests' {@code runAsUser} and {@code runAsGroup}. */
  public static final String IMAGE_USER = "1000:1000";

  /**
   * How every image runs: removed when it stops, never pulled (only the images built here), on the
   * host's network, as the manifests run it (user 1000:1000, read-only root, writable /tmp).
   */
  public static final List<String> IMAGE_RUN_OPTIONS =
      List.of(
          "--rm",
          "--replace",
          "--pull=never",
          "--network",
          "host",
          "--user",
          IMAGE_USER,
          "--read-only",
          "--tmpfs",
          "/tmp:rw,exec,mode=1777",
          "--stop-timeout",
          "20");

  /** The container's name: {@code citadel-NAME}. */
  public static String container(ServiceSpec spec) {
    return "citadel-" + spec.name();
  }

  static final List<String> JVM_OPTIONS = List.of("-Xmx1g", "-XX:+UseSerialGC");

  /** The java this JVM runs on. */
  static String javaBinary() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(System.getProperty("java.home") + "/bin/java");
  }

  static List<String> java(String... args) {
    List<String> command = new ArrayList<>();
    command.add(javaBinary());
    command.addAll(JVM_OPTIONS);
    command.addAll(List.of(args));
    return command;
  }

  /** What the service is given: {@code env}, its ports and instance id, its spec's extras. */
  static Map<String, String> environment(ServiceSpec spec, Map<String, String> env) {
    Map<String, String> all = new java.util.LinkedHashMap<>(env);
    all.put("SERVER_PORT", Integer.toString(spec.port()));
    all.put("MANAGEMENT_SERVER_PORT", Integer.toString(spec.managementPort()));
    all.put("CITADEL_INSTANCE_ID", spec.name());
    all.putAll(spec.env());
    return all;
  }

  /**
   * JVM options of the services tests start: C1 only. Tests run minutes, not hours, with up to six
   * JVMs on two cores, where C2 compiling the framework takes a large share of the CPU while it
   * pays back little (the JIT level changes no behaviour). None under {@code -Pbenchmark} ({@link
   * #benchmarking}): benchmarks, like the launcher and {@code ./run-loadtest.sh}, measure C2.
   */
  static List<String> testJvmOptions() {
    return benchmarking() ? List.of() : List.of("-XX:TieredStopAtLevel=1");
  }

  /** Whether this JVM runs benchmarks ({@code -Pbenchmark} sets {@code citadel.benchmark}). */
  static boolean benchmarking() {
    return Boolean.getBoolean("citadel.benchmark");
  }

  /**
   * The module's jar ({@link #jarOf}, under {@code root/MODULE/target}) as a test runs it: C1 only
   * ({@link #testJvmOptions}) with a start-up cache ({@link StartupCache}) in {@link
   * #testsStartupCache} (tests start the same jars dozens of times a build, and most start from the
   * class-data archive); under {@code -Pbenchmark} as in production, C2 and no archive.
   */
  static StartupCache.Launch forTests(ServiceSpec spec, Path jar) {
    if (benchmarking()) {
      return new StartupCache.Launch(jar, List.of());
    }
    Path root = jar.toAbsolutePath().normalize().getParent().getParent().getParent();
    StartupCache cache = new StartupCache(testsStartupCache(root), System.out::println);
    return cache.launch(spec.module(), jar).after(testJvmOptions());
  }

  /** The command that runs {@code launch}'s jar with its JVM options. */
  static List<String> jar(StartupCache.Launch launch) {
    List<String> args = new ArrayList<>(launch.jvmOptions());
    args.add("-jar");
    args.add(launch.jar().toString());
    return java(args.toArray(String[]::new));
  }

  /** The command that runs {@code mainClass} from {@code classPath}, as a test runs a service. */
  static List<String> mainClass(String classPath, String mainClass) {
    List<String> args = new ArrayList<>(testJvmOptions());
    args.addAll(List.of("-cp", classPath, mainClass));
    return java(args.toArray(String[]::new));
  }

  /** {@code env} with the JVM options an image's java reads ({@code JAVA_TOOL_OPTIONS}). */
  static Map<String, String> imageEnvironment(Map<String, String> env) {
    Map<String, String> withJvm = new java.util.HashMap<>(env);
    withJvm.put("JAVA_TOOL_OPTIONS", String.join(" ", JVM_OPTIONS));
    return withJvm;
  }

  /**
   * The Podman command that runs {@code image} as {@code spec}, passing {@code env}'s names ({@code
   * -e NAME}: the values go through Podman's environment, never its command line).
   */
  static List<String> image(ServiceSpec spec, String image, Map<String, String> env) {
    List<String> command = new ArrayList<>(List.of("podman", "run", "--name", container(spec)));
    command.addAll(IMAGE_RUN_OPTIONS);
    for (String name : environment(spec, env).keySet()) {
      command.add("-e");
      command.add(name);
    }
    command.add(image);
    return command;
  }
}
