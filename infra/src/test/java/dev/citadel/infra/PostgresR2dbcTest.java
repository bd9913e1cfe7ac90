package dev.citadel.infra;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.test.StepVerifier;

/** The real PostgreSQL through the reactive client the services use (R2DBC). */
@CitadelInfra
class PostgresR2dbcTest {
  static DatabaseClient db;
  static TransactionalOperator tx;

  @BeforeAll
  static void connect() {
    PostgresEndpoint pg = SharedInfra.postgresDatabase("infra_r2dbc_test");
    ConnectionFactory factory =
        ConnectionFactories.get(
            pg.r2dbcUrl()
                .replace(
                    "r2dbc:postgresql://",
                    "r2dbc:postgresql://" + pg.username() + ":" + pg.password() + "@"));
    db = DatabaseClient.create(factory);
    tx = TransactionalOperator.create(new R2dbcTransactionManager(factory));
    db.sql("DROP TABLE IF EXISTS journal").then().block();
    db.sql(
            "CREATE TABLE journal (stream TEXT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (stream, seq))")
        .then()
        .block();
  }

  @Test
  void unique_key_violation_surfaces_as_duplicate_key_and_rolls_back_the_whole_transaction() {
    var insertTwice =
        db.sql("INSERT INTO journal VALUES ('a', 1)")
            .then()
            .then(db.sql("INSERT INTO journal VALUES ('b', 1)").then())
            .then(db.sql("INSERT INTO journal VALUES ('b', 1)").then())
            .as(tx::transactional);

    StepVerifier.create(insertTwice).expectError(DuplicateKeyException.class).verify();

    StepVerifier.create(
            db.sql("SELECT count(*) AS n FROM journal WHERE stream IN ('a', 'b')")
                .map(r -> r.get("n", Long.class))
                .one())
        .expectNext(0L)
        .verifyComplete();
  }

  @Test
  void committed_transaction_is_visible() {
    var insert =
        db.sql("INSERT INTO journal VALUES ('c', 1), ('c', 2)").then().as(tx::transactional);
    StepVerifier.create(insert).verifyComplete();
    assertThat(
            db.sql("SELECT max(seq) AS m FROM journal WHERE stream = 'c'")
                .map(r -> r.get("m", Long.class))
                .one()
                .block())
        .isEqualTo(2L);
  }
}
