package dev.citadel.infra.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service module running as its own JVM, as in production, or from its container image with
 * Podman; the command line it starts from is {@link ServiceLaunch}'s. One unit on purpose (over 300
 * lines): starting, health, crash injection (kill, pause) and stopping share the one process handle
 * and differ only where a container needs Podman's own command.
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

  /** The module's jar as a test runs it ({@link ServiceLaunch#forTests}). */
  public static ServiceProcess start(
      ServiceSpec spec, Path jar, Map<String, String> env, Path logDir) {
    return start(spec, ServiceLaunch.forTests(spec, jar), env, logDir);
  }

  static ServiceProcess start(
      ServiceSpec spec, StartupCache.Launch launch, Map<String, String> env, Path logDir) {
    ServiceProcess started;
    try {
      started =
          start(spec, ServiceLaunch.jar(launch), env, logDir.resolve(spec.name() + ".log"), false);
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

  /**
   * A service run from its container image with Podman, as the Kubernetes manifests run it: the
   * same environment variable names, a non-root user, a read-only root file system with a writable
   * {@code /tmp}; on the host's network, so it listens on 127.0.0.1 like the other processes. The
   * values are passed through Podman's environment ({@code -e NAME}), never on its command line.
   * Stopping it stops the container (Podman passes SIGTERM on) and removes it.
   */
  public static ServiceProcess startImage(
      ServiceSpec spec, String image, Map<String, String> env, Path logDir) {
    Map<String, String> withJvm = ServiceLaunch.imageEnvironment(env);
    return start(
        spec,
        ServiceLaunch.image(spec, image, withJvm),
        withJvm,
        logDir.resolve(spec.name() + ".log"),
        false);
  }

  /**
   * A service run from a class path instead of its jar: a test starts the module under test as a
   * real process (one it can kill or pause) before the module's jar exists. C1 only unless
   * benchmarking, as {@link #start(ServiceSpec, Path, Map, Path)}.
   */
  public static ServiceProcess startMain(
      ServiceSpec spec, String classPath, String mainClass, Map<String, String> env, Path logDir) {
    return start(
        spec,
        ServiceLaunch.mainClass(classPath, mainClass),
        env,
        logDir.resolve(spec.name() + ".log"),
        false);
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
    builder.environment().putAll(ServiceLaunch.environment(spec, env));
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

  /**
   * {@link #awaitHealthy(Duration)}, stopping the process when it does not get there (so a failed
   * start leaves nothing running); this process when it does.
   */
  public ServiceProcess healthyOrStopped(Duration timeout) throws InterruptedException {
    try {
      awaitHealthy(timeout);
      return this;
    } catch (RuntimeException | InterruptedException e) {
      stop(Duration.ofSeconds(10));
      throw e;
    }
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
      podman(
          "kill",
          ServiceLaunch.container(spec)); // killing Podman's client would leave the container
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
      podman(
          "pause",
          ServiceLaunch.container(spec)); // stopping Podman's client would not stop the service
    } else {
      signal("-STOP");
    }
  }

  /** SIGCONT: a paused process goes on as if nothing happened. */
  public void resume() {
    if (isContainer()) {
      podman("unpause", ServiceLaunch.container(spec));
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
      podman(
          "rm",
          "--force",
          "--ignore",
          ServiceLaunch.container(spec)); // gone even if Podman's client was
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
