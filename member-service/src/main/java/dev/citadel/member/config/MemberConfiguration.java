package dev.citadel.member.config;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.eventstore.outbox.OutboxPublisher;
import dev.citadel.member.account.Accounts;
import dev.citadel.member.presence.PresenceConsumer;
import dev.citadel.member.presence.PresenceStore;
import dev.citadel.member.token.SigningKeys;
import dev.citadel.member.token.TokenIssuer;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.pool.ConnectionPool;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.Disposable;

@Configuration(proxyBeanMethods = false)
public class MemberConfiguration {
  private static final Logger log = LoggerFactory.getLogger(MemberConfiguration.class);
  static final String OUTBOX = "member.events";

  @Bean
  Clock clock() {
    return Clock.systemUTC();
  }

  @Bean(destroyMethod = "dispose")
  ConnectionPool connectionPool(MemberProperties props) {
    MemberProperties.Postgres pg = props.postgres();
    ConnectionPool pool =
        Connections.migratedPool(pg.url(), pg.user(), pg.password(), pg.poolSize());
    Flyway.configure()
        .dataSource(pg.jdbcUrl(), pg.user(), pg.password())
        .locations("classpath:db/member")
        .table("member_schema_history")
        .baselineOnMigrate(true)
        .baselineVersion("0") // another module may own tables in this schema: still apply V1
        .load()
        .migrate();
    return pool;
  }

  @Bean
  DatabaseClient databaseClient(ConnectionPool pool) {
    return DatabaseClient.create(pool);
  }

  @Bean
  PostgresEventStore journal(ConnectionPool pool) {
    // Account streams hold one event each; they need no snapshots.
    return new PostgresEventStore(
        pool,
        EventStoreOptions.defaults()
            .withPolicy(Accounts.AGGREGATE_TYPE, new SnapshotPolicy(Integer.MAX_VALUE, false, 1))
            .withOutbox(OUTBOX));
  }

  @Bean
  Accounts accounts(
      DatabaseClient db, ConnectionPool pool, PostgresEventStore journal, MemberProperties props) {
    return new Accounts(
        db,
        TransactionalOperator.create(new R2dbcTransactionManager(pool)),
        journal,
        new BCryptPasswordEncoder(props.members().bcryptStrength()));
  }

  @Bean
  RSAKey signingKey(MemberProperties props) {
    MemberProperties.Jwt jwt = props.jwt();
    if (jwt.privateKey() == null || jwt.privateKey().isBlank()) {
      log.warn("CITADEL_JWT_PRIVATE_KEY is not set: generated a signing key for this process only");
      return SigningKeys.generate(jwt.keyId());
    }
    return SigningKeys.fromPem(jwt.privateKey(), jwt.keyId());
  }

  @Bean
  JWKSet jwkSet(RSAKey signingKey) {
    return new JWKSet(signingKey);
  }

  @Bean
  TokenIssuer tokenIssuer(JWKSet keys, RSAKey signingKey, MemberProperties props) {
    return new TokenIssuer(
        new NimbusJwtEncoder(new ImmutableJWKSet<>(keys)),
        signingKey.getKeyID(),
        props.jwt().issuer(),
        props.jwt().ttl());
  }

  @Bean
  PresenceStore presenceStore(DatabaseClient db) {
    return new PresenceStore(db);
  }

  @Bean(destroyMethod = "close")
  MessagePublisher messagePublisher(MemberProperties props) {
    KafkaTopics.ensure(
        kafka(props), List.of(props.members().outboxTopic(), props.members().presenceTopic()));
    return new ReactorKafkaPublisher(kafka(props));
  }

  private static KafkaSettings kafka(MemberProperties props) {
    return KafkaSettings.defaults(props.kafka().bootstrapServers(), props.instanceId());
  }

  @Bean
  Background background(
      ConnectionPool pool,
      MessagePublisher publisher,
      PresenceStore presence,
      MemberProperties props,
      MeterRegistry meters) {
    OutboxPublisher outbox =
        new OutboxPublisher(
            pool,
            publisher,
            OUTBOX,
            props.members().outboxTopic(),
            500,
            Duration.ofMillis(50),
            meters);
    PresenceConsumer consumer =
        new PresenceConsumer(
            new ReactorKafkaConsumer(kafka(props), publisher, meters),
            presence,
            props.members().presenceTopic(),
            meters);
    return new Background(outbox, consumer);
  }

  /** The outbox and the presence consumer, started and stopped with the application. */
  static final class Background implements SmartLifecycle {
    private final OutboxPublisher outbox;
    private final PresenceConsumer presence;
    private final List<Disposable> running = new ArrayList<>();

    Background(OutboxPublisher outbox, PresenceConsumer presence) {
      this.outbox = outbox;
      this.presence = presence;
    }

    @Override
    public synchronized void start() {
      running.add(outbox.start());
      running.add(presence.start());
    }

    @Override
    public synchronized void stop() {
      running.forEach(Disposable::dispose);
      running.clear();
    }

    @Override
    public synchronized boolean isRunning() {
      return !running.isEmpty();
    }
  }
}
