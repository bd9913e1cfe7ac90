package dev.citadel.eventstore.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The append statement's plan stays linear in the batch. The R2DBC driver prepares it once per
 * connection, and after five runs PostgreSQL plans it generically: an array parameter counts as ten
 * rows, so the planner is free to join two of the statement's row sets by a nested loop, which at a
 * batch of 1,000 compares a million pairs (it did: group commit ran at a seventh of its speed).
 * These tests force the generic plan and count the rows a join filter threw away.
 */
@CitadelInfra
class AppendStatementPlanTest {
  static final int BATCH = 1000;
  static final Instant T = Instant.parse("2026-01-01T00:00:00Z");
  static final Pattern REMOVED = Pattern.compile("Rows Removed by Join Filter: (\\d+)");
  static final Pattern LOOPS = Pattern.compile("actual time=.* loops=(\\d+)\\)");

  /** Streams of this run: the database may outlive it (a PostgreSQL given by URL). */
  static final String RUN = java.util.UUID.randomUUID() + "-";

  static PostgresEndpoint db;

  @BeforeAll
  static void migrate() {
    db = SharedInfra.postgresDatabase("append_plan");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
  }

  @Test
  void creating_a_thousand_streams_with_keys_compares_each_row_a_bounded_number_of_times()
      throws Exception {
    assertLinear(batch(RUN + "new-", 0, 1, true));
  }

  @Test
  void appending_to_a_thousand_streams_compares_each_row_a_bounded_number_of_times()
      throws Exception {
    run(batch(RUN + "old-", 0, 1, false));
    assertLinear(batch(RUN + "old-", 1, 1, false));
  }

  @Test
  void appending_several_events_with_keys_compares_each_row_a_bounded_number_of_times()
      throws Exception {
    run(batch(RUN + "keyed-", 0, 1, true));
    assertLinear(batch(RUN + "keyed-", 1, 3, true));
  }

  @Test
  void
      appending_to_a_thousand_streams_in_groups_of_two_compares_each_row_a_bounded_number_of_times()
          throws Exception {
    run(batch(RUN + "pairs-", 0, 1, true));
    List<AppendRequest> next = batch(RUN + "pairs-", 1, 2, true);
    List<List<AppendRequest>> pairs = new ArrayList<>();
    for (int i = 0; i < next.size(); i += 2) {
      pairs.add(List.of(next.get(i), next.get(i + 1)));
    }
    String plan = explain(AppendStatement.groupParameters(pairs));
    assertLinear(plan, next);
  }

  private static List<AppendRequest> batch(
      String prefix, long expected, int events, boolean keyed) {
    List<AppendRequest> requests = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      List<EventData> data =
          IntStream.range(0, events)
              .mapToObj(n -> new EventData("test.Added", new byte[] {(byte) n}))
              .toList();
      AppendRequest r = new AppendRequest("counter", prefix + i, expected, data, T);
      requests.add(keyed ? r.withKey(IdempotencyKey.of("k-" + expected + "-" + i, i)) : r);
    }
    return requests;
  }

  /** Runs the batch as group commit would, so the next one finds the streams. */
  private static void run(List<AppendRequest> requests) throws Exception {
    int events = requests.stream().mapToInt(r -> r.events().size()).sum();
    assertThat(insertedEvents(explain(requests))).isEqualTo(events);
  }

  private static void assertLinear(List<AppendRequest> requests) throws Exception {
    assertLinear(explain(requests), requests);
  }

  private static void assertLinear(String plan, List<AppendRequest> requests) {
    // EXPLAIN gives a node's rows per loop: the pairs thrown away are those times its loops.
    long removed = 0;
    long loops = 1;
    for (String line : plan.split("\n")) {
      Matcher node = LOOPS.matcher(line);
      if (node.find()) {
        loops = Long.parseLong(node.group(1));
      }
      Matcher m = REMOVED.matcher(line);
      if (m.find()) {
        removed += Long.parseLong(m.group(1)) * loops;
      }
    }
    assertThat(removed).as("rows thrown away by join filters in%n%s", plan).isLessThan(BATCH);
    int events = requests.stream().mapToInt(r -> r.events().size()).sum();
    assertThat(plan).as("the plan").contains("Insert on events");
    assertThat(insertedEvents(plan)).as("events written, in%n%s", plan).isEqualTo(events);
  }

  private static long insertedEvents(String plan) {
    Matcher m =
        Pattern.compile("Insert on events .*?\\(actual time=[^ ]+ rows=(\\d+)").matcher(plan);
    return m.find() ? Long.parseLong(m.group(1)) : -1;
  }

  /** EXPLAIN ANALYZE of the statement under its generic plan (this runs it: rows are written). */
  private static String explain(List<AppendRequest> requests) throws Exception {
    return explain(AppendStatement.parameters(requests));
  }

  private static String explain(Object[] parameters) throws Exception {
    // EXPLAIN takes no bound parameters: the simple protocol sends them inline, as literals.
    java.util.Properties properties = new java.util.Properties();
    properties.setProperty("user", db.username());
    properties.setProperty("password", db.password());
    properties.setProperty("preferQueryMode", "simple");
    try (Connection c = DriverManager.getConnection(db.jdbcUrl(), properties)) {
      try (Statement s = c.createStatement()) {
        s.execute("SET plan_cache_mode = force_generic_plan");
        s.execute(
            "PREPARE append_batch("
                + String.join(
                    ", ", AppendStatement.PARAMETER_TYPES.stream().map(t -> t + "[]").toList())
                + ") AS "
                + AppendStatement.SQL);
      }
      String placeholders =
          String.join(", ", AppendStatement.PARAMETER_TYPES.stream().map(t -> "?").toList());
      try (PreparedStatement explain =
          c.prepareStatement("EXPLAIN (ANALYZE) EXECUTE append_batch(" + placeholders + ")")) {
        for (int i = 0; i < parameters.length; i++) {
          explain.setArray(
              i + 1,
              c.createArrayOf(AppendStatement.PARAMETER_TYPES.get(i), (Object[]) parameters[i]));
        }
        StringBuilder plan = new StringBuilder();
        try (ResultSet rs = explain.executeQuery()) {
          while (rs.next()) {
            plan.append(rs.getString(1)).append('\n');
          }
        }
        return plan.toString();
      }
    }
  }
}
