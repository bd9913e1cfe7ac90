package dev.citadel.loadtest.report;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** The report folder: {@code report.md} plus the charts. */
public final class Report {
  /** The reference write-up's wall time for 100,000 players (about 7 minutes). */
  static final double REFERENCE_SECONDS_PER_100K = 420;

  private Report() {}

  /**
   * Writes {@code report.md} and the charts (of the measured bulk round); returns the Markdown.
   * {@code warmUp}, when not null, is the bulk round run before it on the same JVMs.
   */
  public static String write(
      Path dir, String title, BulkResult warmUp, BulkResult bulk, HttpResult http)
      throws IOException {
    Files.createDirectories(dir);
    if (bulk != null) {
      Charts.write(bulk, dir);
    }
    String markdown = markdown(title, warmUp, bulk, http);
    Files.writeString(dir.resolve("report.md"), markdown);
    return markdown;
  }

  /** The report's text ({@code warmUp} may be null); pure. */
  public static String markdown(String title, BulkResult warmUp, BulkResult b, HttpResult h) {
    StringBuilder md = new StringBuilder("# " + title + "\n\n");
    if (b != null) {
      md.append(bulk(warmUp, b));
    }
    if (h != null) {
      md.append(http(h));
    }
    return md.toString();
  }

  static String bulk(BulkResult warmUp, BulkResult b) {
    StringBuilder md = new StringBuilder();
    md.append(
        f(
            "## Bulk path: %,d players -> %,d matches and rooms%n%n",
            b.players(), b.seatedMatches()));
    md.append("| figure | value |\n|---|---|\n");
    md.append(f("| wall time, first enqueue to last room | %.1f s |%n", b.wallSeconds()));
    md.append(f("| bulk enqueue | %.1f s |%n", b.enqueueSeconds()));
    md.append(f("| matches/s | %,.0f |%n", b.matchesPerSecond()));
    md.append(
        f(
            "| CPU a 1,000 players: match-service / game-state (both instances) | %.0f / %.0f ms"
                + " |%n",
            b.cpuMsPerThousand()[0], b.cpuMsPerThousand()[1]));
    md.append(
        f(
            "| enqueue-to-room p50 / p99 / max | %.2f s / %.2f s / %.2f s |%n",
            Stats.percentile(b.enqueueToRoomSeconds(), 50),
            Stats.percentile(b.enqueueToRoomSeconds(), 99),
            Stats.percentile(b.enqueueToRoomSeconds(), 100)));
    md.append(
        f(
            "| Elo spread per match p50 / p99 / max | %.0f / %.0f / %.0f |%n",
            Stats.percentile(b.eloSpreads(), 50),
            Stats.percentile(b.eloSpreads(), 99),
            Stats.percentile(b.eloSpreads(), 100)));
    md.append(f("| **players lost** | **%d** |%n", b.lost()));
    md.append(f("| players in two matches | %d |%n", b.duplicated()));
    md.append(
        f(
            "| baseline: the reference write-up, ~%.0f s for this count | %.1fx faster |%n%n",
            REFERENCE_SECONDS_PER_100K * b.players() / 100_000.0,
            REFERENCE_SECONDS_PER_100K * b.players() / 100_000.0 / b.wallSeconds()));
    if (warmUp != null) {
      md.append(
          f(
              "Before it, on the same platform, a warm-up round of %,d players (not the figure:"
                  + " JVMs that have not run the path yet spend about half their CPU in the JIT"
                  + " compilers, see docs/loadtest.md): first enqueue to last room %.1f s, bulk"
                  + " enqueue %.1f s, CPU a 1,000 players %.0f ms match-service, %.0f ms"
                  + " game-state (both instances), lost %d, in two matches"
                  + " %d.%n%n",
              warmUp.players(),
              warmUp.wallSeconds(),
              warmUp.enqueueSeconds(),
              warmUp.cpuMsPerThousand()[0],
              warmUp.cpuMsPerThousand()[1],
              warmUp.lost(),
              warmUp.duplicated()));
    }
    md.append("Counted at every stage (players):\n\n| stage | players | source |\n|---|---|---|\n");
    md.append(f("| generated | %,d | load generator |%n", b.players()));
    md.append(f("| queued | %,d | bulk answers (refused: %d) |%n", b.queued(), b.refused()));
    md.append(f("| matched | %,d | match-service `citadel_matches_formed_total` |%n", b.matched()));
    md.append(f("| sent | %,d | distinct players in `match.found` on Kafka |%n", b.sent()));
    md.append(
        f(
            "| received and placed | %,d | game-state `citadel_match_placements_total` |%n",
            b.received()));
    md.append(
        f(
            "| in rooms | %,d | distinct players in `match.room-assigned` (%,d distinct rooms) |%n",
            b.seated(), b.rooms()));
    md.append(
        f(
            "%nRe-sent matches: %d; expired: %d; rejected (no room): %d. Stages can count a player"
                + " twice when a match is re-sent or requeued; lost counts players, not"
                + " messages.%n%n",
            b.resent(), b.expired(), b.rejected()));
    md.append("![throughput](" + Charts.THROUGHPUT + ")\n\n");
    md.append("![enqueue to room](" + Charts.LATENCY + ")\n\n");
    md.append("![Elo spread](" + Charts.SPREAD + ")\n\n");
    md.append("![queue depth](" + Charts.QUEUE_DEPTH + ")\n\n");
    return md.toString();
  }

  static String http(HttpResult h) {
    StringBuilder md = new StringBuilder();
    int all = h.players() + h.warmUpPlayers();
    md.append(
        f(
            "## Full path through the gateway: %,d virtual players (Gatling)%n%n"
                + "Sign-up, log-in (JWT), WebSocket connect, queue over HTTP, wait for"
                + " `match.room-assigned` on the WebSocket, status. Passwords are hashed with"
                + " bcrypt cost %s in load tests (10 in production). %s%n%n",
            h.players(),
            dev.citadel.infra.platform.LocalPlatform.LOADTEST_BCRYPT_STRENGTH,
            h.passed()
                ? "Every player finished (" + h.finished() + "); nothing failed."
                : "**" + h.finished() + " of " + all + " players finished; see failed.**"));
    md.append(
        "A request refused because the platform is busy (503, or the gateway's 429, with"
            + " Retry-After) is counted as refused and sent again after the time it names;"
            + " latencies are those of accepted requests.\n\n");
    table(md, h.requests().stream().filter(r -> !r.name().startsWith(HttpResult.WARM_UP)).toList());
    if (h.warmUpPlayers() > 0) {
      md.append(
          f(
              "%nBefore them, %d warm-up players went the same path, five a second, into"
                  + " services that had not run it yet (not counted above):%n%n",
              h.warmUpPlayers()));
      table(
          md, h.requests().stream().filter(r -> r.name().startsWith(HttpResult.WARM_UP)).toList());
    }
    md.append("\nGatling's own report: `" + h.gatlingReport() + "/index.html`\n");
    return md.toString();
  }

  private static void table(StringBuilder md, List<HttpResult.RequestStats> requests) {
    md.append(
        "| request | accepted | refused | failed | p50 ms | p75 ms | p95 ms | p99 ms | max ms |\n"
            + "|---|---|---|---|---|---|---|---|---|\n");
    for (HttpResult.RequestStats r : requests) {
      md.append(
          f(
              "| %s | %d | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f |%n",
              r.name(),
              r.ok(),
              r.refused(),
              r.failed(),
              r.p50(),
              r.p75(),
              r.p95(),
              r.p99(),
              r.max()));
    }
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }
}
