package dev.citadel.loadtest;

import java.nio.file.Path;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * What a load test runs, from its command line:
 *
 * <pre>
 * --players N        bulk players (default 100000; 0 skips the bulk path)
 * --http-players M   Gatling virtual players through the gateway (default 200; 0 skips)
 * --out DIR          report folder (default loadtest-reports/TIMESTAMP)
 * --attach           use the platform already running (./run-local.sh --loadtest); needs
 *                    CITADEL_KAFKA_BOOTSTRAP_SERVERS and CITADEL_CLIENT_SECRET_LOADTEST as it
 *                    printed
 * --stall-seconds S  give up when no player got a room for S seconds (default 60)
 * --ramp-seconds R   the virtual players arrive evenly over R seconds (default M / 5: five a
 *                    second)
 * --warm-up-players W players who go the whole path first, five a second, reported apart
 *                    (default 50): the measured ones then meet JVMs that have run the path
 * --bulk-warm-up-players B  a bulk round of B players before the measured one, reported apart
 *                    (default: as many as --players, at most 100,000; 0 measures fresh JVMs);
 *                    if it loses anyone, it is the report and no measured round runs
 * </pre>
 */
record Settings(
    int players,
    int httpPlayers,
    Path out,
    boolean attach,
    int stallSeconds,
    int rampSeconds,
    int warmUpPlayers,
    String bulkQueue,
    String httpQueue,
    int clients,
    int bulkWarmUpPlayers) {

  static Settings parse(List<String> args, Clock clock) {
    int players = 100_000;
    int httpPlayers = 200;
    Path out =
        Path.of(
            "loadtest-reports",
            LocalDateTime.now(clock).format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
    boolean attach = false;
    int stall = 60;
    int ramp = -1;
    int warmUp = 50;
    int bulkWarmUp = -1;
    for (int i = 0; i < args.size(); i++) {
      switch (args.get(i)) {
        case "--players" -> players = Integer.parseInt(args.get(++i));
        case "--http-players" -> httpPlayers = Integer.parseInt(args.get(++i));
        case "--out" -> out = Path.of(args.get(++i));
        case "--attach" -> attach = true;
        case "--stall-seconds" -> stall = Integer.parseInt(args.get(++i));
        case "--ramp-seconds" -> ramp = Math.max(1, Integer.parseInt(args.get(++i)));
        case "--warm-up-players" -> warmUp = Math.max(0, Integer.parseInt(args.get(++i)));
        case "--bulk-warm-up-players" -> bulkWarmUp = Math.max(0, Integer.parseInt(args.get(++i)));
        default -> throw new IllegalArgumentException("unknown option " + args.get(i));
      }
    }
    // Only whole matches: a remainder would wait for partners that never come.
    players -= players % LoadTest.PLAYERS_PER_MATCH;
    httpPlayers -= httpPlayers % LoadTest.PLAYERS_PER_MATCH;
    warmUp -= warmUp % LoadTest.PLAYERS_PER_MATCH;
    if (bulkWarmUp < 0) {
      // Both rounds' games keep their rooms (games last up to two hours): at most 100,000
      // warm-up players, so the default leaves the platform's rooms to the measured round.
      bulkWarmUp = Math.min(players, 100_000);
    }
    bulkWarmUp -= bulkWarmUp % LoadTest.PLAYERS_PER_MATCH;
    // Five new players a second by default: on a 2-core machine running the whole platform,
    // faster arrivals measure JIT warm-up of six cold JVMs rather than the platform.
    if (ramp < 0) {
      ramp = Math.max(1, httpPlayers / 5);
    }
    return new Settings(
        players, httpPlayers, out, attach, stall, ramp, warmUp, "ranked", "casual", 4, bulkWarmUp);
  }
}
