package dev.citadel.infra.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What keys the start-up cache and which archives it trusts. */
class StartupCacheTest {
  @TempDir Path dir;

  static void jar(Path path, String content) throws Exception {
    try (OutputStream out = Files.newOutputStream(path);
        ZipOutputStream zip = new ZipOutputStream(out)) {
      zip.putNextEntry(new ZipEntry("a/B.class"));
      zip.write(content.getBytes(StandardCharsets.UTF_8));
      zip.closeEntry();
    }
  }

  @Test
  void a_jar_rebuilt_with_the_same_content_keeps_its_key_and_other_content_changes_it()
      throws Exception {
    Path jar = dir.resolve("service-exec.jar");
    jar(jar, "one");
    String first = StartupCache.key(jar);
    // Rebuilt: written again, a new time, the same entries.
    jar(jar, "one");
    Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis() + 60_000));
    assertThat(StartupCache.key(jar)).isEqualTo(first);
    jar(jar, "two");
    assertThat(StartupCache.key(jar)).isNotEqualTo(first);
  }

  @Test
  void only_an_archive_with_its_header_is_trusted() throws Exception {
    Path whole = dir.resolve("whole.jsa");
    Files.write(whole, new byte[] {(byte) 0xa8, (byte) 0xab, 0x0b, (byte) 0xf0, 1, 2, 3});
    Path cut = dir.resolve("cut.jsa");
    Files.write(cut, new byte[4096]); // a dump killed before its header was written
    assertThat(StartupCache.complete(whole)).isTrue();
    assertThat(StartupCache.complete(cut)).isFalse();
    assertThat(StartupCache.complete(dir.resolve("missing.jsa"))).isFalse();
  }

  @Test
  void a_jar_that_cannot_be_extracted_starts_as_it_is() throws Exception {
    Path notAJar = dir.resolve("broken-exec.jar");
    Files.writeString(notAJar, "not a zip");
    List<String> said = new ArrayList<>();
    StartupCache.Launch launch =
        new StartupCache(dir.resolve("cache"), said::add).launch("x", notAJar);
    assertThat(launch.jar()).isEqualTo(notAJar);
    assertThat(launch.jvmOptions()).isEmpty();
    assertThat(said).singleElement().asString().contains("start-up cache skipped");
  }

  /** A cache whose extraction of {@code jar} is already there (as after a first start). */
  static Path extracted(Path cache, Path jar) throws Exception {
    String base = jar.getFileName().toString().replaceFirst("\\.jar$", "");
    Path home = cache.resolve(base + "-" + StartupCache.key(jar));
    Files.createDirectories(home.resolve("app"));
    Files.copy(jar, home.resolve("app").resolve(jar.getFileName()));
    return home;
  }

  /** A module's jar, its extraction already in the cache, and that cache. */
  record Module(Path jar, Path home, StartupCache cache) {}

  Module module(String name) throws Exception {
    Path jar = dir.resolve(name + "-exec.jar");
    jar(jar, name);
    Path home = extracted(dir.resolve("cache"), jar);
    return new Module(jar, home, new StartupCache(dir.resolve("cache"), s -> {}));
  }

  /** The file a writer's JVM dumps its archive to. */
  static Path dumpOf(StartupCache.Launch writer) {
    return Path.of(writer.jvmOptions().get(0).substring(StartupCache.WRITE_OPTION.length()));
  }

  static final byte[] WHOLE = {(byte) 0xa8, (byte) 0xab, 0x0b, (byte) 0xf0, 1, 2, 3};

  @Test
  void one_instance_at_a_time_writes_a_module_archive_and_the_next_start_maps_it()
      throws Exception {
    Module m = module("svc");
    Path jar = m.jar();
    Path home = m.home();
    StartupCache cache = m.cache();

    StartupCache.Launch writer = cache.launch("svc", jar);
    StartupCache.Launch second = cache.launch("svc", jar);
    assertThat(writer.jar()).isEqualTo(home.resolve("app").resolve(jar.getFileName()));
    assertThat(writer.jvmOptions())
        .singleElement()
        .asString()
        .startsWith("-XX:ArchiveClassesAtExit=" + home.resolve("svc.jsa."));
    assertThat(second.jar()).isEqualTo(writer.jar());
    assertThat(second.jvmOptions()).isEmpty(); // the archive is being written by the first
    Path dump = dumpOf(writer);
    Files.write(dump, WHOLE); // the writer stops and the JVM writes its archive
    writer.exited().ended(true, 143);

    StartupCache.Launch third = cache.launch("svc", jar);
    assertThat(third.jvmOptions())
        .containsExactly("-XX:SharedArchiveFile=" + home.resolve("svc.jsa"));
    assertThat(StartupCache.complete(home.resolve("svc.jsa"))).isTrue();
    assertThat(dump).doesNotExist();
    second.exited().ended(true, 143); // a plain start gives nothing back
    assertThat(cache.launch("svc", jar).jvmOptions()).isEqualTo(third.jvmOptions());
  }

  @Test
  void a_writer_that_died_before_its_dump_hands_the_turn_to_the_next_start() throws Exception {
    Module m = module("killed");
    Path jar = m.jar();
    StartupCache cache = m.cache();
    StartupCache.Launch killed = cache.launch("killed", jar);
    killed.exited().ended(true, 137); // SIGKILL: no dump at all
    StartupCache.Launch next = cache.launch("killed", jar);
    assertThat(next.jvmOptions())
        .singleElement()
        .asString()
        .startsWith("-XX:ArchiveClassesAtExit=");
    assertThat(next.jvmOptions()).isNotEqualTo(killed.jvmOptions()); // a file of its own
    next.exited().ended(true, 143);
  }

  @Test
  void a_dump_cut_short_is_never_mapped_and_goes_once_it_is_old() throws Exception {
    Path home = Files.createDirectories(dir.resolve("home"));
    Path cut = home.resolve("svc.jsa.1-1.dump");
    Files.write(cut, new byte[4096]);
    Path archive = home.resolve("svc.jsa");
    java.time.Instant written = Files.getLastModifiedTime(cut).toInstant();
    StartupCache.adopt(
        home, "svc.jsa.", archive, java.time.Clock.fixed(written, java.time.ZoneOffset.UTC));
    assertThat(archive).doesNotExist();
    assertThat(cut).exists(); // it may still be being written
    StartupCache.adopt(
        home,
        "svc.jsa.",
        archive,
        java.time.Clock.fixed(written.plusSeconds(180), java.time.ZoneOffset.UTC));
    assertThat(cut).doesNotExist();
    assertThat(archive).doesNotExist();
    Path whole = home.resolve("svc.jsa.1-2.dump");
    Files.write(whole, WHOLE);
    StartupCache.adopt(
        home, "svc.jsa.", archive, java.time.Clock.fixed(written, java.time.ZoneOffset.UTC));
    assertThat(StartupCache.complete(archive)).isTrue();
    assertThat(whole).doesNotExist();
  }

  @Test
  void a_writer_that_failed_its_start_leaves_no_archive_of_the_few_classes_it_loaded()
      throws Exception {
    Module m = module("failed");
    Path jar = m.jar();
    Path home = m.home();
    StartupCache cache = m.cache();
    StartupCache.Launch failed = cache.launch("failed", jar);
    Path dump = dumpOf(failed);
    Files.write(dump, WHOLE); // the JVM dumps at any exit, System.exit(1) too
    failed.exited().ended(false, 1);
    assertThat(dump).doesNotExist();
    StartupCache.Launch next = cache.launch("failed", jar);
    assertThat(next.jvmOptions()).singleElement().asString().startsWith(StartupCache.WRITE_OPTION);
    assertThat(home.resolve("failed.jsa")).doesNotExist();
    next.exited().ended(true, 143);
  }

  @Test
  void a_writer_stopped_before_it_was_ever_healthy_leaves_no_archive() throws Exception {
    Module m = module("early");
    Path jar = m.jar();
    Path home = m.home();
    StartupCache cache = m.cache();
    StartupCache.Launch early = cache.launch("early", jar);
    Path dump = dumpOf(early);
    Files.write(dump, WHOLE); // SIGTERM while starting: a whole dump of the few classes loaded
    early.exited().ended(false, 143);
    assertThat(dump).doesNotExist();
    assertThat(cache.launch("early", jar).jvmOptions())
        .singleElement()
        .asString()
        .startsWith(StartupCache.WRITE_OPTION);
    assertThat(home.resolve("early.jsa")).doesNotExist();
  }

  @Test
  void services_tests_start_run_c1_only_except_under_the_benchmark_profile() {
    String before = System.getProperty("citadel.benchmark");
    try {
      System.clearProperty("citadel.benchmark");
      assertThat(ServiceLaunch.testJvmOptions()).containsExactly("-XX:TieredStopAtLevel=1");
      System.setProperty("citadel.benchmark", "true");
      assertThat(ServiceLaunch.testJvmOptions()).isEmpty();
      assertThat(ServiceLaunch.benchmarking()).isTrue();
    } finally {
      if (before == null) {
        System.clearProperty("citadel.benchmark");
      } else {
        System.setProperty("citadel.benchmark", before);
      }
    }
  }

  @Test
  void a_healthy_writer_that_ends_with_an_error_leaves_no_archive() throws Exception {
    Module m = module("crashed");
    Path jar = m.jar();
    StartupCache cache = m.cache();
    StartupCache.Launch crashed = cache.launch("crashed", jar);
    Path dump = dumpOf(crashed);
    Files.write(dump, WHOLE);
    crashed.exited().ended(true, 1);
    assertThat(dump).doesNotExist();
    StartupCache.Launch stopped = cache.launch("crashed", jar);
    Path kept = dumpOf(stopped);
    Files.write(kept, WHOLE);
    stopped.exited().ended(true, 130); // Ctrl-C after it served: kept
    assertThat(kept).exists();
  }
}
