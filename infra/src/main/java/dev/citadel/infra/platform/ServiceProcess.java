package dev.citadel.infra.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A service module running as its own JVM, as in production, or from its container image with
 * Podman. One unit on purpose (over 300 lines): starting (with how a test starts one: C1 only and
 * from the tests' class-data archives, unless benchmarking), health, crash injection (kill, pause)
 * and stopping share the one process handle and differ only where a container needs Podman's own
 * command.
 */
public final class ServiceProcess {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  private final ServiceSpec spec;
  private final Process process;
  private final Path log;
  private final List<String> launch;
  private final Map<String, String> env;

  /** Whether its health check has answered 200 once (a class-data archive is kept only then). */
  private volatile boolean wasHealthy;

  private ServiceProcess(
      ServiceSpec spec, Process process, Path log, List<String> launch, Map<String, String> env) {
    this.spec = spec;
    this.process = process;
    this.log = log;
    this.launch = List.copyOf(launch);
    this.env = Map.copyOf(env);
  }

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
   * The module's jar ({@link #jarOf}, under {@code root/MODULE/target}) as a test runs it: C1 only
   * ({@link #testJvmOptions}) with a start-up cache ({@link StartupCache}) in {@link
   * #testsStartupCache} (tests start the same jars dozens of times a build, and most start from the
   * class-data archive); under {@code -Pbenchmark} as in production, C2 and no archive.
   */
  public static ServiceProcess start(
      ServiceSpec spec, Path jar, Map<String, String> env, Path logDir) {
    if (benchmarking()) {
      return start(spec, new StartupCache.Launch(jar, List.of()), env, logDir);
    }
    Path root = jar.toAbsolutePath().normalize().getParent().getParent().getParent();
    StartupCache cache = new StartupCache(testsStartupCache(root), System.out::println);
    return start(spec, cache.launch(spec.module(), jar).after(testJvmOptions()), env, logDir);
  }

  /**
   * The tests' start-up cache of the project at {@code root}: apart from the launcher's ({@code
   * target/startup-cache}), because a new build's first start removes the extracted jars of the
   * builds before it, which a running {@code ./run-local.sh} may still be loading classes from.
   */
  public static Path testsStartupCache(Path root) {
    return root.resolve("target").resolve("startup-cache-tests");
  }

  static ServiceProcess start(
      ServiceSpec spec, StartupCache.Launch launch, Map<String, String> env, Path logDir) {
    List<String> args = new ArrayList<>(launch.jvmOptions());
    args.add("-jar");
    args.add(launch.jar().toString());
    ServiceProcess started;
    try {
      started =
          start(
              spec,
              java(args.toArray(String[]::new)),
              env,
              logDir.resolve(spec.name() + ".log"),
              false);
    } catch (RuntimeException e) {
      launch.exited().ended(false, -1); // never ran: a writer gives its turn back
      throw e;
    }
    started
        .process
        .onExit()
        .thenAccept(p -> launch.exited().ended(started.wasHealthy, p.exitValue()));
    return started;
  }

  /** The user the images run as, as the manifests' {@code runAsUser} and {@code runAsGroup}. */
  public static final String IMAGE_USER = "1000:1000";

  /**
   * A service run from its container image with Podman, as the Kubernetes manifests run it: the
   * same environment variable names, a non-root user, a read-only root file system with a writable
   * {@code /tmp}; on the host's network, so it listens on 127.0.0.1 like the other processes. The
   * values are passed through Podman's environment ({@code -e NAME}), never on its command line.
   * Stopping it stops the container (Podman passes SIGTERM on) and removes it.
   */
  public static ServiceProcess startImage(
      ServiceSpec spec, String image, Map<String, String> env, Path logDir) {
    Map<String, String> withJvm = new java.util.HashMap<>(env);
    withJvm.put("JAVA_TOOL_OPTIONS", String.join(" ", JVM_OPTIONS));
    List<String> command = new ArrayList<>(List.of("podman", "run", "--name", container(spec)));
    command.addAll(IMAGE_RUN_OPTIONS);
    for (String name : environment(spec, withJvm).keySet()) {
      command.add("-e");
      command.add(name);
    }
    command.add(image);
    return start(spec, command, withJvm, logDir.resolve(spec.name() + ".log"), false);
  }

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

  private static final List<String> JVM_OPTIONS = List.of("-Xmx1g", "-XX:+UseSerialGC");

  /** The java this JVM runs on. */
  static String javaBinary() {
    return ProcessHandle.current()
        .info()
        .command()
        .orElse(System.getProperty("java.home") + "/bin/java");
  }

  private static List<String> java(String... args) {
    List<String> command = new ArrayList<>();
    command.add(javaBinary());
    command.addAll(JVM_OPTIONS);
    command.addAll(List.of(args));
    return command;
  }

  /** What the service is given: {@code env}, its ports and instance id, its spec's extras. */
  private static Map<String, String> environment(ServiceSpec spec, Map<String, String> env) {
    Map<String, String> all = new java.util.LinkedHashMap<>(env);
    all.put("SERVER_PORT", Integer.toString(spec.port()));
    all.put("MANAGEMENT_SERVER_PORT", Integer.toString(spec.managementPort()));
    all.put("CITADEL_INSTANCE_ID", spec.name());
    all.putAll(spec.env());
    return all;
  }

  /**
   * A service run from a class path instead of its jar: a test starts the module under test as a
   * real process (one it can kill or pause) before the module's jar exists. C1 only unless
   * benchmarking, as {@link #start(ServiceSpec, Path, Map, Path)}.
   */
  public static ServiceProcess startMain(
      ServiceSpec spec, String classPath, String mainClass, Map<String, String> env, Path logDir) {
    List<String> args = new ArrayList<>(testJvmOptions());
    args.addAll(List.of("-cp", classPath, mainClass));
    return start(
        spec, java(args.toArray(String[]::new)), env, logDir.resolve(spec.name() + ".log"), false);
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
   * The same service again, as a new process with the same jar and environment; its output is
   * appended to the same log, so what the previous process said before it died stays there. It does
   * not write the class-data archive its predecessor was to write ({@link StartupCache}: the turn
   * went back when that one ended, and another instance may be writing now).
   */
  public ServiceProcess restart() {
    List<String> again =
        launch.stream().filter(a -> !a.startsWith(StartupCache.WRITE_OPTION)).toList();
    return start(spec, again, env, log, true);
  }

  /** Completes with the exit code when the process ends. */
  public java.util.concurrent.CompletableFuture<Integer> exited() {
    return process.onExit().thenApply(Process::exitValue);
  }

  private static ServiceProcess start(
      ServiceSpec spec, List<String> launch, Map<String, String> env, Path log, boolean append) {
    ProcessBuilder builder =
        new ProcessBuilder(launch)
            .redirectErrorStream(true)
            .redirectOutput(
                append
                    ? ProcessBuilder.Redirect.appendTo(log.toFile())
                    : ProcessBuilder.Redirect.to(log.toFile()));
    builder.environment().putAll(environment(spec, env));
    try {
      return new ServiceProcess(spec, builder.start(), log, launch, env);
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + spec.name(), e);
    }
  }

  public ServiceSpec spec() {
    return spec;
  }

  public long pid() {
    return process.pid();
  }

  public Path log() {
    return log;
  }

  /** Where its health and metrics are: {@code http://127.0.0.1:MANAGEMENT_PORT}. */
  public URI management() {
    return URI.create("http://127.0.0.1:" + spec.managementPort());
  }

  /** Where callers reach it: {@code http://127.0.0.1:PORT}. */
  public URI url() {
    return URI.create("http://127.0.0.1:" + spec.port());
  }

  /**
   * Waits until {@code /actuator/health} (on the management port) answers 200, or fails after
   * {@code timeout}.
   */
  public void awaitHealthy(Duration timeout) throws InterruptedException {
    awaitHealthy(timeout, "/actuator/health");
  }

  /** Waits until {@code path} on the management port (a probe's path) answers 200. */
  public void awaitHealthy(Duration timeout, String path) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (healthyNow(path)) {
        return;
      }
      process.waitFor(250, TimeUnit.MILLISECONDS);
    }
    throw new IllegalStateException(
        spec.name() + " not healthy within " + timeout + "; see " + log);
  }

  /**
   * True if {@code path} on the management port answers 200 now; throws if the process has ended
   * (whatever else may answer on its port).
   */
  public boolean healthyNow(String path) throws InterruptedException {
    if (!process.isAlive()) {
      throw new IllegalStateException(
          spec.name() + " exited with code " + process.exitValue() + "; see " + log);
    }
    try {
      HttpResponse<Void> response =
          HTTP.send(
              HttpRequest.newBuilder(management().resolve(path))
                  .timeout(Duration.ofSeconds(2))
                  .build(),
              HttpResponse.BodyHandlers.discarding());
      if (response.statusCode() == 200) {
        wasHealthy = true;
        return true;
      }
      return false;
    } catch (IOException notYet) {
      return false; // not listening yet
    }
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: the process gets no chance to finish anything (a crash, for fault tests). */
  public void kill() {
    if (isContainer()) {
      podman("kill", container(spec)); // killing Podman's client would leave the container
    }
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * SIGSTOP: the process is frozen where it stands (a long GC pause, a stalled VM), holding its
   * connections and locks, until {@link #resume}.
   */
  public void pause() {
    if (isContainer()) {
      podman("pause", container(spec)); // stopping Podman's client would not stop the service
    } else {
      signal("-STOP");
    }
  }

  /** SIGCONT: a paused process goes on as if nothing happened. */
  public void resume() {
    if (isContainer()) {
      podman("unpause", container(spec));
    } else {
      signal("-CONT");
    }
  }

  private void signal(String signal) {
    if (!process.isAlive()) {
      return; // nothing to pause or resume (and its pid may belong to another process by now)
    }
    try {
      Process kill = new ProcessBuilder("kill", signal, Long.toString(process.pid())).start();
      if (kill.waitFor() != 0) {
        throw new IllegalStateException("kill " + signal + " " + process.pid() + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** SIGTERM (Spring's graceful shutdown), then SIGKILL after a grace period. */
  public void stop(Duration grace) {
    signalStop();
    awaitStopped(grace);
  }

  /** Sends SIGTERM and returns at once, so that several services shut down in parallel. */
  public void signalStop() {
    process.destroy();
  }

  /** Waits for the process to end, killing it (and anything it started) after {@code grace}. */
  public void awaitStopped(Duration grace) {
    List<ProcessHandle> children = process.descendants().toList();
    try {
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    children.forEach(ProcessHandle::destroyForcibly);
    if (isContainer()) {
      podman("rm", "--force", "--ignore", container(spec)); // gone even if Podman's client was
    }
  }

  private boolean isContainer() {
    return launch.get(0).equals("podman");
  }

  private static void podman(String... args) {
    List<String> command = new ArrayList<>(List.of("podman"));
    command.addAll(List.of(args));
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not run " + command, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
