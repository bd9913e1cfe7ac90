package dev.citadel.eventstore.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.citadel.eventstore.Connections;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.r2dbc.pool.ConnectionPool;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/** Lookups after a reply in doubt wait for the appends running when they began: together. */
@CitadelInfra
class RunningAppendsTest {
  /**
   * A statement failed as a whole sends every append of its batch to a lookup at once: they share
   * their counts of the running appends. Each polled on its own (50 times a second, up to 10 s),
   * and their queries took the pool from every other load and append.
   */
  @Test
  void many_lookups_at_once_share_their_polls_and_each_waits_for_the_appends_before_it()
      throws Exception {
    PostgresEndpoint db = SharedInfra.postgresDatabase("running_appends");
    ConnectionPool pool =
        Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), 4);
    try (var slow = DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password())) {
      // An append still running (marked as the group-commit statement is), for about a second.
      CompletableFuture<Void> running =
          CompletableFuture.runAsync(
              () -> {
                try (var st = slow.createStatement()) {
                  st.execute(AppendStatement.MARK + " SELECT pg_sleep(1.5)");
                } catch (java.sql.SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      RunningAppends appends = new RunningAppends(DatabaseClient.create(pool));
      await().atMost(Duration.ofSeconds(10)).until(() -> countRunning(pool) > 0);
      long before = appends.queries();
      long lookups =
          Flux.range(0, 500)
              .parallel(8)
              .runOn(Schedulers.parallel())
              .flatMap(i -> appends.ended().thenReturn(1))
              .sequential()
              .count()
              .block(Duration.ofSeconds(30));

      assertThat(lookups).isEqualTo(500);
      assertThat(countRunning(pool)).as("none answered before the running append ended").isZero();
      // Polled together: a count every 20 ms for ~1.5 s is ~75 a round, a few rounds at most.
      assertThat(appends.queries() - before).isLessThan(500);
      running.get();
    } finally {
      pool.dispose();
    }
  }

  static long countRunning(ConnectionPool pool) {
    return DatabaseClient.create(pool)
        .sql(
            "SELECT count(*) AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '"
                + AppendStatement.MARK
                + "%'")
        .map(r -> r.get("n", Long.class))
        .one()
        .block(Duration.ofSeconds(10));
  }
}
