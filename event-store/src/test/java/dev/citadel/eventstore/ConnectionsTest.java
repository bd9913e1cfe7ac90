package dev.citadel.eventstore;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.R2dbcTransientException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** A full pool refuses a caller after its acquire timeout instead of keeping it waiting. */
@CitadelInfra
class ConnectionsTest {

  @Test
  void a_caller_of_a_full_pool_gets_a_transient_error_after_the_acquire_timeout() {
    PostgresEndpoint pg = SharedInfra.postgresDatabase("connections_test");
    ConnectionPool pool =
        Connections.pool(
            pg.host(),
            pg.port(),
            pg.database(),
            pg.username(),
            pg.password(),
            1,
            Duration.ofMillis(1000));
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
}
