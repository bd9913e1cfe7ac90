package dev.citadel.member.account;

import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.r2dbc.pool.ConnectionPool;
import java.util.UUID;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.security.crypto.password.PasswordEncoder;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.scheduler.Scheduler;

/** {@link Accounts} on a real PostgreSQL with member-service's schema, for the tests below it. */
@CitadelInfra
abstract class AccountsDatabase {
  static PostgresEndpoint db;
  static ConnectionPool pool;

  @BeforeAll
  static void migrate() {
    db = SharedInfra.postgresDatabase("accounts_test");
    // As the service: its own schema first, then the journal's (each with its own history).
    Flyway.configure()
        .dataSource(db.jdbcUrl(), db.username(), db.password())
        .locations("classpath:db/member")
        .table("member_schema_history")
        .baselineOnMigrate(true)
        .load()
        .migrate();
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    pool = Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), 4);
  }

  @AfterAll
  static void close() {
    pool.dispose();
  }

  static Accounts accounts(PasswordEncoder encoder, Scheduler hashing, int maxSignUpsHashing) {
    return new Accounts(
        DatabaseClient.create(pool),
        TransactionalOperator.create(new R2dbcTransactionManager(pool)),
        new PostgresEventStore(pool, EventStoreOptions.defaults()),
        encoder,
        hashing,
        maxSignUpsHashing);
  }

  static String nick() {
    return "b" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }
}
