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
}
