package dev.citadel.infra.redis;

import dev.citadel.infra.FreePorts;
import dev.citadel.infra.InfraSettings;
import dev.citadel.infra.Running;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.testcontainers.containers.GenericContainer;
import redis.embedded.core.ExecutableProvider;

/**
 * A real Redis server: {@code redis-server} from the PATH when there is one, otherwise the binary
 * shipped in the embedded-redis jar (Redis 6.2); a Docker container; or an external server.
 */
public final class RedisServer implements Running<RedisEndpoint> {
  private static final Duration STARTUP = Duration.ofSeconds(20);

  private final RedisEndpoint endpoint;
  private final String origin;
  private final AutoCloseable stopper;

  private RedisServer(RedisEndpoint endpoint, String origin, AutoCloseable stopper) {
    this.endpoint = endpoint;
    this.origin = origin;
    this.stopper = stopper;
  }

  /**
   * Starts (or connects to) Redis.
   *
   * @param port the port for a local server; 0 picks a free one
   */
  public static RedisServer start(InfraSettings settings, int port) {
    if (settings.redisUrl().isPresent()) {
      return new RedisServer(RedisEndpoint.parse(settings.redisUrl().get()), "external", () -> {});
    }
    return switch (settings.source()) {
      case LOCAL -> startProcess(FreePorts.orFree(port));
      case DOCKER -> startContainer();
    };
  }

  private static RedisServer startProcess(int port) {
    Binary binary = binary();
    List<String> command =
        List.of(
            binary.path().toString(),
            "--port",
            Integer.toString(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      RedisEndpoint endpoint = new RedisEndpoint("127.0.0.1", port);
      awaitPong(endpoint, process);
      return new RedisServer(endpoint, binary.origin(), () -> stop(process));
    } catch (IOException e) {
      throw new UncheckedIOException("could not start " + binary.path(), e);
    }
  }

  private static RedisServer startContainer() {
    GenericContainer<?> container = new GenericContainer<>("redis:7-alpine").withExposedPorts(6379);
    container.start();
    RedisEndpoint endpoint = new RedisEndpoint(container.getHost(), container.getMappedPort(6379));
    return new RedisServer(endpoint, "docker", container::stop);
  }

  private record Binary(Path path, String origin) {}

  /**
   * The oldest Redis the scripts run on: {@code ZADD ... GT} (the leaderboards) came in 6.2, the
   * embedded binary's version. An older {@code redis-server} on the PATH (Debian 11 and Ubuntu
   * 22.04 ship 6.0) is passed over for the embedded one, saying so, instead of failing the first
   * script that needs it.
   */
  static final int[] MINIMUM = {6, 2};

  private static Binary binary() {
    Optional<Path> onPath = onPath("redis-server");
    if (onPath.isPresent()) {
      String reported = versionLine(onPath.get(), Duration.ofSeconds(10));
      if (atLeast(reported, MINIMUM)) {
        return new Binary(onPath.get(), "local binary (" + onPath.get() + ")");
      }
      System.err.println(
          "[citadel] "
              + onPath.get()
              + " is older than Redis "
              + MINIMUM[0]
              + "."
              + MINIMUM[1]
              + " or did not say its version ("
              + reported
              + "): using the embedded Redis instead");
    }
    try {
      Path cache = Path.of(System.getProperty("java.io.tmpdir"), "citadel-redis");
      Files.createDirectories(cache);
      File extracted = ExecutableProvider.newJarResourceProvider(cache.toFile()).get();
      if (!extracted.canExecute() && !extracted.setExecutable(true)) {
        throw new IOException("cannot make " + extracted + " executable");
      }
      return new Binary(extracted.toPath(), "local binary (embedded-redis 6.2)");
    } catch (IOException e) {
      throw new UncheckedIOException("no redis-server on the PATH and none could be extracted", e);
    }
  }

  /** What {@code redis-server --version} prints ("Redis server v=7.0.15 sha=..."), or why not. */
  static String versionLine(Path binary, Duration patience) {
    Path out = null;
    Process p = null;
    try {
      // Into a file, read once it ended: a pipe read first would wait on a binary that never exits.
      out = Files.createTempFile("citadel-redis-version", ".txt");
      p =
          new ProcessBuilder(binary.toString(), "--version")
              .redirectErrorStream(true)
              .redirectOutput(out.toFile())
              .start();
      if (!p.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS)) {
        List<ProcessHandle> children = p.descendants().toList(); // a wrapper script's
        p.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        return "no answer to --version within " + patience;
      }
      try (InputStream in = Files.newInputStream(out)) {
        return new String(in.readNBytes(4096), StandardCharsets.UTF_8).trim();
      }
    } catch (IOException e) {
      return e.toString();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return e.toString();
    } finally {
      if (p != null) {
        p.destroyForcibly(); // nothing when it ended
      }
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException e) {
          // a temporary file left behind costs nothing
        }
      }
    }
  }

  /**
   * Whether a {@code --version} line names a version at or above {@code minimum} (major, minor).
   */
  static boolean atLeast(String versionLine, int[] minimum) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("v=(\\d{1,6})\\.(\\d{1,6})").matcher(versionLine);
    if (!m.find()) {
      return false;
    }
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    return major > minimum[0] || (major == minimum[0] && minor >= minimum[1]);
  }

  static Optional<Path> onPath(String name) {
    String path = Optional.ofNullable(System.getenv("PATH")).orElse("");
    for (String dir : path.split(File.pathSeparator)) {
      if (dir.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(dir, name);
      if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  private static void awaitPong(RedisEndpoint endpoint, Process process) {
    long deadline = System.nanoTime() + STARTUP.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "redis-server exited with code "
                + process.exitValue()
                + " (port "
                + endpoint.port()
                + " taken?)");
      }
      if (ping(endpoint)) {
        return;
      }
      waitBriefly(process);
    }
    stop(process);
    throw new IllegalStateException("redis-server did not answer PING within " + STARTUP);
  }

  private static void waitBriefly(Process process) {
    try {
      // Returns at once if the process dies; otherwise a short pause before the next PING.
      process.waitFor(50, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting redis-server", e);
    }
  }

  private static boolean ping(RedisEndpoint endpoint) {
    try (Socket socket = new Socket()) {
      socket.connect(
          new InetSocketAddress(InetAddress.getByName(endpoint.host()), endpoint.port()), 200);
      socket.setSoTimeout(500);
      OutputStream out = socket.getOutputStream();
      out.write("PING\r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      byte[] reply = in.readNBytes(7);
      return new String(reply, StandardCharsets.US_ASCII).startsWith("+PONG");
    } catch (IOException e) {
      return false;
    }
  }

  private static void stop(Process process) {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public RedisEndpoint endpoint() {
    return endpoint;
  }

  @Override
  public String origin() {
    return origin;
  }

  @Override
  public void close() {
    try {
      stopper.close();
    } catch (Exception e) {
      throw new IllegalStateException("could not stop Redis", e);
    }
  }
}
