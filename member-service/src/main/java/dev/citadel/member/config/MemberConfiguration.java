package dev.citadel.member.config;

import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.eventstore.outbox.OutboxPublisher;
import dev.citadel.member.account.Accounts;
import dev.citadel.member.identity.KeyRing;
import dev.citadel.member.identity.ServiceClients;
import dev.citadel.member.identity.TokenIssuer;
import dev.citadel.member.login.LoginThrottle;
import dev.citadel.member.login.http.EdgeAddress;
import dev.citadel.member.presence.PresenceConsumer;
import dev.citadel.member.presence.PresenceStore;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.web.lifecycle.BackgroundTasks;
import dev.citadel.web.security.CitadelSecurity;
import dev.citadel.web.security.Scopes;
import dev.citadel.web.security.TokenDecoders;
import dev.citadel.web.security.TokenValidators;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.pool.ConnectionPool;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.core.ReactiveStringRedisTemplate;
import org.springframework.http.HttpMethod;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

@Configuration(proxyBeanMethods = false)
public class MemberConfiguration {
  private static final Logger log = LoggerFactory.getLogger(MemberConfiguration.class);
  static final String OUTBOX = "member.events";

  /** The audience service tokens name to call member-service. */
  public static final String SERVICE_NAME = "member-service";

  @Bean(destroyMethod = "dispose")
  ConnectionPool connectionPool(MemberProperties props) {
    dev.citadel.eventstore.PostgresSettings pg = props.postgres();
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
    // Account streams hold a few events each; they need no snapshots.
    return new PostgresEventStore(
        pool,
        EventStoreOptions.defaults()
            .withPolicy(Accounts.AGGREGATE_TYPE, new SnapshotPolicy(Integer.MAX_VALUE, false, 1))
            .withOutbox(OUTBOX));
  }

  /** bcrypt's own threads: as many as cores (more only make every other thread wait longer). */
  @Bean(destroyMethod = "dispose")
  Scheduler hashing(MemberProperties props) {
    int threads = Runtime.getRuntime().availableProcessors();
    return Schedulers.newBoundedElastic(threads, props.members().bcryptQueue(), "bcrypt");
  }

  @Bean
  Accounts accounts(
      DatabaseClient db,
      ConnectionPool pool,
      PostgresEventStore journal,
      MemberProperties props,
      Scheduler hashing) {
    return new Accounts(
        db,
        TransactionalOperator.create(new R2dbcTransactionManager(pool)),
        journal,
        new BCryptPasswordEncoder(props.members().bcryptStrength()),
        hashing,
        // Half of bcrypt's queue (threads x places each) for sign-ups, the rest kept for log-ins.
        Math.max(
            1, Runtime.getRuntime().availableProcessors() * props.members().bcryptQueue() / 2));
  }

  /** The signing keys; without one (and outside tests) member-service does not start. */
  @Bean
  KeyRing keyRing(MemberProperties props) {
    MemberProperties.Jwt jwt = props.jwt();
    RSAKey signing;
    if (blank(jwt.signingKey())) {
      if (!jwt.generateIfMissing()) {
        throw new IllegalStateException(
            "CITADEL_JWT_SIGNING_KEY is not set: member-service needs the RSA key (PKCS#8 PEM) "
                + "every replica signs tokens with. The local platform generates one; in a "
                + "cluster it is a Secret (see docs/security.md).");
      }
      log.warn("no signing key configured: generated one for this process only");
      signing = KeyRing.generate();
    } else {
      signing = KeyRing.fromPem(jwt.signingKey());
    }
    return new KeyRing(signing, pem(jwt.nextKey()), pem(jwt.previousKey()));
  }

  private static Optional<RSAKey> pem(String pem) {
    return blank(pem) ? Optional.empty() : Optional.of(KeyRing.fromPem(pem));
  }

  private static boolean blank(String s) {
    return s == null || s.isBlank();
  }

  @Bean
  TokenIssuer tokenIssuer(KeyRing keys, MemberProperties props) {
    return new TokenIssuer(
        new NimbusJwtEncoder(
            new ImmutableJWKSet<>(new com.nimbusds.jose.jwk.JWKSet(keys.signing()))),
        keys.signing().getKeyID(),
        props.jwt().issuer(),
        props.jwt().ttl(),
        props.identity().serviceTokenTtl());
  }

  /** member-service verifies tokens with its own keys: no call to its own JWKS. */
  @Bean
  ReactiveJwtDecoder jwtDecoder(KeyRing keys, MemberProperties props, Clock clock) {
    return TokenDecoders.local(
        keys::keys, TokenValidators.of(props.jwt().issuer(), SERVICE_NAME, clock));
  }

  @Bean
  SecurityWebFilterChain security(ServerHttpSecurity http, CitadelSecurity citadel) {
    // Sign-up and log-in read no token: EdgeAddress checks the gateway's one itself, and a stale
    // token a client still sends must not make logging in impossible.
    return citadel
        .withoutTokensOn(Set.of(EdgeAddress.SIGN_UP, EdgeAddress.LOG_IN))
        .serviceChain(
            http,
            routes ->
                routes
                    .pathMatchers(
                        HttpMethod.POST, "/api/members", "/api/members/login", "/oauth2/token")
                    .permitAll()
                    .pathMatchers(HttpMethod.GET, "/.well-known/jwks.json")
                    .permitAll()
                    .pathMatchers("/internal/members/**")
                    .hasAuthority(Scopes.authority(Scopes.PRESENCE_READ)),
            "/api/**");
  }

  @Bean
  ServiceClients serviceClients(MemberProperties props) {
    Map<String, ServiceClients.Registration> registrations = new LinkedHashMap<>();
    props
        .identity()
        .clients()
        .forEach(
            (id, c) ->
                registrations.put(id, new ServiceClients.Registration(c.secret(), c.grants())));
    ServiceClients clients = ServiceClients.of(registrations);
    log.info("service clients enabled: {}", clients.ids());
    return clients;
  }

  @Bean
  LoginThrottle loginThrottle(ReactiveStringRedisTemplate redis, MemberProperties props) {
    MemberProperties.Login l = props.login();
    return new LoginThrottle(
        redis,
        new LoginThrottle.Policy(
            l.perNicknameAndAddress(),
            l.perNickname(),
            l.perAddress(),
            l.backoff(),
            l.maxBackoff()));
  }

  @Bean
  dev.citadel.member.login.AddressShares addressShares(MemberProperties props) {
    return new dev.citadel.member.login.AddressShares(props.login().bcryptPerAddress());
  }

  @Bean
  EdgeAddress edgeAddress(ReactiveJwtDecoder decoder) {
    return new EdgeAddress(decoder);
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
    return props.kafka().settings(props.instanceId());
  }

  /** The outbox and the presence consumer, started and stopped with the application. */
  @Bean
  BackgroundTasks background(
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
    return BackgroundTasks.of(
        () -> {
          // Stopped gracefully: the round in hand sent, the lease given up for the next replica.
          OutboxPublisher.Running running = outbox.start();
          return BackgroundTasks.Graceful.of(running, running::finish);
        },
        consumer::start);
  }
}
