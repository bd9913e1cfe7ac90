package dev.citadel.infra.platform;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Class Data Sharing for the local platform's JVMs: a service starts from its jar extracted by
 * Spring Boot's {@code jarmode=tools} (plain jars, which CDS can map), with an archive of the
 * classes an earlier run of it loaded. The first run of a jar writes its archive when it stops
 * ({@code -XX:ArchiveClassesAtExit}); the next runs map it ({@code -XX:SharedArchiveFile}) and skip
 * most class loading and verification. A rebuilt jar (another size or time) gets a new cache; the
 * JVM itself ignores an archive that does not match its class path ({@code -Xshare:auto}), so a
 * stale or broken archive costs the speed-up, never the start. One archive per service name: two
 * instances of one jar never write the same file.
 */
final class StartupCache {
  /** Smaller than any real archive: a dump cut short, written again. */
  private static final long MIN_ARCHIVE_BYTES = 1 << 20;

  /** What to run: the jar (extracted, or the original when extraction failed) and JVM options. */
  record Launch(Path jar, List<String> jvmOptions) {}

  private final Path dir;

  StartupCache(Path dir) {
    this.dir = dir;
  }

  /**
   * How {@code name} starts from {@code jar}; the jar itself, unchanged, if it cannot be cached.
   */
  Launch launch(String name, Path jar) {
    try {
      String file = jar.getFileName().toString();
      String version =
          file.replaceFirst("\\.jar$", "")
              + "-"
              + Files.size(jar)
              + "-"
              + Files.getLastModifiedTime(jar).toMillis();
      Path home = dir.resolve(version);
      Path extracted = home.resolve("app").resolve(file);
      if (!Files.exists(extracted)) {
        forgetOlder(file.replaceFirst("\\.jar$", ""), version);
        if (!extract(jar, home.resolve("app"))) {
          return new Launch(jar, List.of());
        }
      }
      Path archive = home.resolve(name + ".jsa");
      boolean usable = Files.exists(archive) && Files.size(archive) >= MIN_ARCHIVE_BYTES;
      return new Launch(
          extracted,
          List.of(
              usable ? "-XX:SharedArchiveFile=" + archive : "-XX:ArchiveClassesAtExit=" + archive));
    } catch (IOException e) {
      return new Launch(jar, List.of());
    }
  }

  /** Earlier builds of the same jar: their caches are never used again. */
  private void forgetOlder(String jarName, String keep) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> caches = Files.list(dir)) {
      for (Path old : caches.toList()) {
        String n = old.getFileName().toString();
        if (n.startsWith(jarName + "-") && !n.equals(keep)) {
          delete(old);
        }
      }
    }
  }

  private static void delete(Path tree) throws IOException {
    try (Stream<Path> all = Files.walk(tree)) {
      for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** Spring Boot's own extraction: the application jar and a {@code lib/} beside it. */
  private static boolean extract(Path jar, Path into) {
    try {
      Path partial = into.resolveSibling(into.getFileName() + ".partial");
      if (Files.exists(partial)) {
        delete(partial);
      }
      Files.createDirectories(partial.getParent());
      Process p =
          new ProcessBuilder(
                  ServiceProcess.javaBinary(),
                  "-Djarmode=tools",
                  "-jar",
                  jar.toString(),
                  "extract",
                  "--destination",
                  partial.toString())
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
        p.destroyForcibly();
        return false;
      }
      Files.move(partial, into); // whole or not at all: a cut extraction is never used
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException("could not extract " + jar, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
