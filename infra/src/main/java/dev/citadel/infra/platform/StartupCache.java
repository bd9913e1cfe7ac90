package dev.citadel.infra.platform;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Class Data Sharing for the JVMs of the launcher and of tests: a service starts from its jar
 * extracted by Spring Boot's {@code jarmode=tools} (plain jars, which CDS can map), with an archive
 * of the classes an earlier run of it loaded. A run with no archive yet writes one when it stops
 * ({@code -XX:ArchiveClassesAtExit}, to a {@code .dump} file); the next start takes the dump if it
 * is complete (the JVM writes the archive's header last, so a dump cut short has none) and maps it
 * ({@code -XX:SharedArchiveFile}), skipping most class loading and verification.
 *
 * <p>The cache is keyed by the jar's content (its entries' names, sizes and CRCs: a rebuild that
 * changes nothing rewrites the jar but keeps the key), the JDK and its home, because the JVM
 * rejects an archive made by another. Anything that goes wrong here starts the service from its jar
 * as before: the cache buys speed, never a failed start.
 *
 * <p>One archive per module, shared by all its instances in one cache directory (the launcher's, or
 * the tests', which start the same jars dozens of times a build). While one process this JVM
 * started is writing it, other instances start without it (a writer that lives as long as the JVM
 * keeps the others plain); every writer dumps to a file of its own (this JVM's pid and a random
 * part) and the next start adopts the first complete one by renaming it (a process that mapped the
 * old file keeps it), so two processes never write one file and nobody reads a file being written.
 * A restarted writer starts plain ({@link ServiceProcess#restart}); the dump of a writer that was
 * never healthy (stopped or failed while starting: it would dump the few classes it had loaded) or
 * that ends with an error is removed. Dumps cut short are removed by a later start that finds no
 * archive, two minutes after they were last written; surplus ones stay until the jar's key changes.
 */
final class StartupCache {
  /** A dynamic archive's first bytes (JDK 17's magic 0xf00baba8, little-endian). */
  private static final byte[] MAGIC = {(byte) 0xa8, (byte) 0xab, 0x0b, (byte) 0xf0};

  /** A dump this old that still has no header was cut short (a writer killed while dumping). */
  private static final Duration ABANDONED = Duration.ofMinutes(2);

  /** Archives a process started by this JVM is writing (its launch's {@code exited} clears it). */
  private static final Set<Path> WRITING = ConcurrentHashMap.newKeySet();

  /** The option that makes a JVM write an archive as it exits. */
  static final String WRITE_OPTION = "-XX:ArchiveClassesAtExit=";

  /** Exit codes of a JVM stopped as asked: normal exit, SIGINT, SIGTERM. */
  private static final Set<Integer> STOPPED = Set.of(0, 130, 143);

  /** What to do when the process has ended: whether it was ever healthy, and its exit code. */
  @FunctionalInterface
  interface Ended {
    void ended(boolean wasHealthy, int exitCode);
  }

  /**
   * What to run: the jar (extracted, or the original), JVM options, and what to do when the process
   * has ended (a writer gives its turn back).
   */
  record Launch(Path jar, List<String> jvmOptions, Ended exited) {
    Launch(Path jar, List<String> jvmOptions) {
      this(jar, jvmOptions, (healthy, code) -> {});
    }

    /** The same launch with {@code first} before its own JVM options. */
    Launch after(List<String> first) {
      List<String> all = new java.util.ArrayList<>(first);
      all.addAll(jvmOptions);
      return new Launch(jar, all, exited);
    }
  }

  private final Path dir;
  private final Consumer<String> say;

  StartupCache(Path dir, Consumer<String> say) {
    this.dir = dir;
    this.say = say;
  }

  /**
   * How an instance of {@code module} starts from {@code jar}; the jar itself, unchanged, if it
   * cannot be cached.
   */
  Launch launch(String module, Path jar) {
    try {
      String base = jar.getFileName().toString().replaceFirst("\\.jar$", "");
      String version = base + "-" + key(jar);
      Path home = dir.resolve(version);
      Path app = home.resolve("app");
      if (!Files.exists(app)) {
        forgetOlder(base, version);
        if (!extract(jar, home)) {
          say.accept(
              "  ("
                  + module
                  + ": start-up cache skipped, see "
                  + home.resolve("extract.log")
                  + ")");
          return new Launch(jar, List.of());
        }
      }
      Path extracted = app.resolve(jar.getFileName());
      Path archive = home.resolve(module + ".jsa");
      synchronized (WRITING) {
        if (!complete(archive)) {
          adopt(home, module + ".jsa.", archive, Clock.systemUTC());
        }
        if (complete(archive)) {
          return new Launch(extracted, List.of("-XX:SharedArchiveFile=" + archive));
        }
        if (!WRITING.add(archive)) {
          return new Launch(extracted, List.of()); // another instance is writing it
        }
      }
      Path dump =
          home.resolve(
              module + ".jsa." + ProcessHandle.current().pid() + "-" + UUID.randomUUID() + ".dump");
      return new Launch(
          extracted,
          List.of(WRITE_OPTION + dump),
          (healthy, code) -> {
            try {
              if (!healthy || !STOPPED.contains(code)) {
                Files.deleteIfExists(dump);
              }
            } catch (IOException e) {
              say.accept("  (" + module + ": could not remove " + dump + ": " + e + ")");
            } finally {
              WRITING.remove(archive);
            }
          });
    } catch (IOException | RuntimeException e) {
      say.accept("  (" + module + ": start-up cache skipped: " + e + ")");
      return new Launch(jar, List.of());
    }
  }

  /**
   * Puts the first complete dump named {@code prefix*.dump} in {@code archive}'s place; removes
   * dumps that were cut short long ago.
   */
  static void adopt(Path home, String prefix, Path archive, Clock now) throws IOException {
    List<Path> dumps;
    try (Stream<Path> files = Files.list(home)) {
      dumps =
          files
              .filter(p -> p.getFileName().toString().startsWith(prefix))
              .filter(p -> p.getFileName().toString().endsWith(".dump"))
              .sorted()
              .toList();
    }
    for (Path dump : dumps) {
      try {
        if (complete(dump)) {
          Files.move(
              dump, archive, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
          return;
        }
        if (Files.getLastModifiedTime(dump).toInstant().plus(ABANDONED).isBefore(now.instant())) {
          Files.deleteIfExists(dump);
        }
      } catch (NoSuchFileException gone) {
        // Adopted or removed by another launching JVM since the listing: on to the next one.
      }
    }
  }

  /** The jar's content, the JDK and its home, hashed: what an archive is valid for. */
  static String key(Path jar) throws IOException {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(Runtime.version().toString().getBytes(StandardCharsets.UTF_8));
      sha.update(System.getProperty("java.home").getBytes(StandardCharsets.UTF_8));
      try (ZipFile zip = new ZipFile(jar.toFile())) {
        Enumeration<? extends ZipEntry> entries = zip.entries();
        while (entries.hasMoreElements()) {
          ZipEntry e = entries.nextElement();
          sha.update(
              (e.getName() + "|" + e.getSize() + "|" + e.getCrc() + "\n")
                  .getBytes(StandardCharsets.UTF_8));
        }
      }
      return HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A whole archive: its header (written last) is there. */
  static boolean complete(Path archive) throws IOException {
    if (!Files.isRegularFile(archive)) {
      return false;
    }
    byte[] head = new byte[MAGIC.length];
    try (InputStream in = Files.newInputStream(archive)) {
      return in.readNBytes(head, 0, head.length) == head.length
          && java.util.Arrays.equals(head, MAGIC);
    }
  }

  /** Earlier builds of the same jar: their caches are never used again. */
  private void forgetOlder(String base, String keep) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> caches = Files.list(dir)) {
      for (Path old : caches.toList()) {
        String n = old.getFileName().toString();
        if (n.startsWith(base + "-") && !n.equals(keep)) {
          delete(old);
        }
      }
    }
  }

  private static void delete(Path tree) throws IOException {
    if (!Files.exists(tree)) {
      return;
    }
    try (Stream<Path> all = Files.walk(tree)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Spring Boot's own extraction (the application jar and a {@code lib/} beside it) into {@code
   * home/app}, whole or not at all: into a directory of its own first, then moved in one step (a
   * launcher that got there first wins, and this one's copy goes).
   */
  private static boolean extract(Path jar, Path home) throws IOException {
    Files.createDirectories(home);
    Path partial = Files.createTempDirectory(home, "app.partial");
    try {
      Process p =
          new ProcessBuilder(
                  ServiceLaunch.javaBinary(),
                  "-Djarmode=tools",
                  "-jar",
                  jar.toString(),
                  "extract",
                  "--destination",
                  partial.resolve("app").toString())
              .redirectErrorStream(true)
              .redirectOutput(home.resolve("extract.log").toFile())
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return false;
      }
      try {
        Files.move(partial.resolve("app"), home.resolve("app"), StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException raced) {
        // Another launcher's extraction of the same content is in place (a rename onto a
        // directory that is not empty fails with a plain FileSystemException): use it, below.
      }
      return Files.exists(home.resolve("app").resolve(jar.getFileName()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      delete(partial);
    }
  }
}
