package dev.citadel.eventstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** A full pool refuses a caller after its acquire timeout instead of keeping it waiting. */
@CitadelInfra
class ConnectionsTest {

  /** A pool of one connection to the shared test database, with this acquire timeout. */
  static ConnectionPool poolOfOne(Duration acquireTimeout) {
    PostgresEndpoint pg = SharedInfra.postgresDatabase("connections_test");
    return Connections.pool(
        pg.host(),
        pg.port(),
        pg.database(),
        pg.username(),
        pg.password(),
        1,
        acquireTimeout,
        Connections.STATEMENT_TIMEOUT,
        Connections.LOCK_TIMEOUT);
  }

  @Test
  void a_caller_of_a_full_pool_gets_a_transient_error_after_the_acquire_timeout() {
    ConnectionPool pool = poolOfOne(Duration.ofMillis(1000));
    try {
      Connection held = pool.create().block(Duration.ofSeconds(30));
      // The only connection is taken: the next caller waits its second and is refused, with an
      // error the services answer as 503 (storage unavailable for a moment).
      long asked = System.nanoTime();
      StepVerifier.create(Mono.from(pool.create()))
          .expectErrorSatisfies(
              e ->
                  org.assertj.core.api.Assertions.assertThat(e)
                      .isInstanceOf(R2dbcTimeoutException.class)
                      .isInstanceOf(R2dbcTransientException.class))
          .verify(Duration.ofSeconds(20));
      // Once, not retried: r2dbc-pool would otherwise try the acquire again (twice the bound).
      org.assertj.core.api.Assertions.assertThat(Duration.ofNanos(System.nanoTime() - asked))
          .isLessThan(Duration.ofMillis(1900));
      Mono.from(held.close()).block(Duration.ofSeconds(10));
      // Given back, it serves the next caller.
      StepVerifier.create(Mono.from(pool.create()).flatMap(c -> Mono.from(c.close()).thenReturn(1)))
          .expectNext(1)
          .verifyComplete();
    } finally {
      pool.dispose();
    }
  }

  @Test
  void a_session_stops_when_its_client_is_gone_and_an_open_transaction_does_not_hold_for_ever() {
    ConnectionPool pool = poolOfOne(Duration.ofSeconds(5));
    try {
      var settings =
          Mono.usingWhen(
                  pool.create(),
                  c ->
                      Mono.from(
                              c.createStatement(
                                      "SELECT current_setting('client_connection_check_interval'),"
                                          + " current_setting('idle_in_transaction_session_timeout'),"
                                          + " current_setting('statement_timeout'),"
                                          + " current_setting('lock_timeout')")
                                  .execute())
                          .flatMap(
                              r ->
                                  Mono.from(
                                      r.map(
                                          (row, meta) ->
                                              List.of(
                                                  row.get(0, String.class),
                                                  row.get(1, String.class),
                                                  row.get(2, String.class),
                                                  row.get(3, String.class))))),
                  Connection::close)
              .block(Duration.ofSeconds(30));
      assertThat(settings).containsExactly("1s", "1min", "30s", "10s");
    } finally {
      pool.dispose();
    }
  }

  /** Runs {@code sql} on a connection of {@code pool}, the error if it fails. */
  static Throwable failureOf(ConnectionPool pool, String sql) {
    return Mono.usingWhen(
            pool.create(),
            c ->
                Mono.from(c.createStatement(sql).execute())
                    .flatMap(r -> Mono.from(r.getRowsUpdated())),
            Connection::close)
        .then(Mono.<Throwable>empty())
        .onErrorResume(Mono::just)
        .block(Duration.ofSeconds(30));
  }

  /**
   * A statement that runs too long, or waits too long for a lock another session holds, is
   * cancelled by PostgreSQL with an error the services answer as 503, so a player's commands are
   * never stuck behind it for longer than that.
   */
  @Test
  void a_stalled_statement_or_lock_wait_is_cancelled_after_its_bound() {
    PostgresEndpoint pg = SharedInfra.postgresDatabase("connections_test");
    ConnectionPool pool =
        Connections.pool(
            pg.host(),
            pg.port(),
            pg.database(),
            pg.username(),
            pg.password(),
            2,
            Duration.ofSeconds(5),
            Duration.ofMillis(500),
            Duration.ofMillis(200));
    try {
      long asked = System.nanoTime();
      assertThat(failureOf(pool, "SELECT pg_sleep(20)"))
          .isInstanceOf(io.r2dbc.spi.R2dbcNonTransientResourceException.class)
          .hasMessageContaining("statement timeout");
      assertThat(Duration.ofNanos(System.nanoTime() - asked)).isLessThan(Duration.ofSeconds(10));

      failureOf(pool, "CREATE TABLE IF NOT EXISTS locked_rows (id INT PRIMARY KEY)");
      failureOf(pool, "INSERT INTO locked_rows VALUES (1) ON CONFLICT DO NOTHING");
      Connection holder = pool.create().block(Duration.ofSeconds(30));
      try {
        Mono.from(holder.beginTransaction()).block(Duration.ofSeconds(10));
        Mono.from(holder.createStatement("SELECT id FROM locked_rows FOR UPDATE").execute())
            .flatMapMany(r -> r.map((row, meta) -> 1))
            .blockLast(Duration.ofSeconds(10));
        assertThat(failureOf(pool, "UPDATE locked_rows SET id = 1"))
            .isInstanceOf(io.r2dbc.spi.R2dbcNonTransientResourceException.class)
            .hasMessageContaining("lock timeout");
      } finally {
        Mono.from(holder.rollbackTransaction())
            .then(Mono.from(holder.close()))
            .block(Duration.ofSeconds(10));
      }
    } finally {
      pool.dispose();
    }
  }

  @Test
  void an_append_that_gets_no_connection_is_refused_as_never_written() {
    ConnectionPool pool = poolOfOne(Duration.ofMillis(500));
    try {
      Connection held = pool.create().block(Duration.ofSeconds(30));
      PostgresEventStore store = new PostgresEventStore(pool, EventStoreOptions.defaults());
      AppendRequest one =
          new AppendRequest(
              "player",
              "p-" + java.util.UUID.randomUUID(),
              0,
              List.of(new EventData("created", new byte[] {1})),
              Instant.parse("2026-12-04T00:00:00Z"));
      // Not one statement was sent: a caller refuses it at once (503) instead of looking it up
      // on another connection it cannot get either.
      StepVerifier.create(store.append(one))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(StoreBusy.class))
          .verify(Duration.ofSeconds(20));
      StepVerifier.create(store.appendAtomically(List.of(one)))
          .expectErrorSatisfies(e -> assertThat(e).isInstanceOf(StoreBusy.class))
          .verify(Duration.ofSeconds(20));
      Mono.from(held.close()).block(Duration.ofSeconds(10));
    } finally {
      pool.dispose();
    }
  }

  @Test
  void only_a_failure_before_any_statement_counts_as_never_sent() {
    Throwable lost =
        new org.springframework.dao.DataAccessResourceFailureException("connection reset");
    assertThat(StoreBusy.ifNeverSent(lost)).isSameAs(lost);
    assertThat(
            StoreBusy.ifNeverSent(
                new org.springframework.dao.DataAccessResourceFailureException(
                    StoreBusy.NO_CONNECTION, new R2dbcTimeoutException("acquire"))))
        .isInstanceOf(StoreBusy.class);
  }
}
