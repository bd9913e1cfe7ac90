package dev.citadel.infra.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which {@code redis-server} on the PATH is new enough for the scripts, and how it is asked. */
class RedisServerVersionTest {
  @Test
  void a_server_at_or_above_six_two_is_used_and_an_older_or_silent_one_is_not() {
    assertThat(
            RedisServer.atLeast(
                "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64",
                RedisServer.MINIMUM))
        .isTrue();
    assertThat(RedisServer.atLeast("Redis server v=6.2.6 sha=00000000:0", RedisServer.MINIMUM))
        .isTrue();
    assertThat(RedisServer.atLeast("Redis server v=6.0.16 sha=00000000:0", RedisServer.MINIMUM))
        .isFalse();
    assertThat(RedisServer.atLeast("Redis server v=5.0.14 sha=00000000:0", RedisServer.MINIMUM))
        .isFalse();
    assertThat(RedisServer.atLeast("Redis server v=10.0.0", RedisServer.MINIMUM)).isTrue();
    assertThat(RedisServer.atLeast("java.io.IOException: Permission denied", RedisServer.MINIMUM))
        .isFalse();
  }

  @Test
  void the_version_is_read_from_the_binary_and_one_that_never_ends_is_given_up(@TempDir Path dir)
      throws Exception {
    assumeTrue(
        dir.getFileSystem().supportedFileAttributeViews().contains("posix"),
        "needs a shell script");
    Path old = script(dir, "old", "echo 'Redis server v=6.0.16 sha=00000000:0'");
    assumeTrue(Files.isExecutable(old), "the temporary directory does not allow running files");
    assertThat(RedisServer.versionLine(old, Duration.ofSeconds(10)))
        .isEqualTo("Redis server v=6.0.16 sha=00000000:0");
    assertThat(
            RedisServer.atLeast(
                RedisServer.versionLine(old, Duration.ofSeconds(10)), RedisServer.MINIMUM))
        .isFalse();
    Path stuck = script(dir, "stuck", "echo 'Redis server v=7.0.15'; exec sleep 600");
    assertThat(RedisServer.versionLine(stuck, Duration.ofMillis(500))).startsWith("no answer");
  }

  static Path script(Path dir, String name, String body) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }
}
