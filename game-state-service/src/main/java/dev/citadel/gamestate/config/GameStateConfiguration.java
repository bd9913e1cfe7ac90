package dev.citadel.gamestate.config;

import dev.citadel.affinity.GameStateInstances;
import dev.citadel.eventstore.Connections;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.KeyRetention;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.eventstore.outbox.OutboxPublisher;
import dev.citadel.gamestate.accounts.AccountRegistrations;
import dev.citadel.gamestate.aggregate.AfterCommit;
import dev.citadel.gamestate.aggregate.AggregateHost;
import dev.citadel.gamestate.aggregate.HostOptions;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.rooms.MatchRooms;
import dev.citadel.gamestate.rooms.RoomAllocator;
import dev.citadel.gamestate.shop.Catalogue;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.transactions.Coordinator;
import dev.citadel.gamestate.transactions.LocalParticipant;
import dev.citadel.gamestate.transactions.Owners;
import dev.citadel.gamestate.transactions.http.RemoteParticipant;
import dev.citadel.messaging.MessagePublisher;
import dev.citadel.messaging.kafka.KafkaSettings;
import dev.citadel.messaging.kafka.KafkaTopics;
import dev.citadel.messaging.kafka.ReactorKafkaConsumer;
import dev.citadel.messaging.kafka.ReactorKafkaPublisher;
import dev.citadel.web.lifecycle.BackgroundTasks;
import dev.citadel.web.security.CitadelSecurity;
import dev.citadel.web.security.Scopes;
import dev.citadel.web.security.ServiceTokens;
import io.micrometer.core.instrument.MeterRegistry;
import io.r2dbc.pool.ConnectionPool;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * Wires the event store, the player host and the outbox from {@link GameStateProperties}.
 *
 * <p>Why one class of this size: it is the service's one composition root (security, storage, the
 * host, transactions, rooms, background tasks), only bean methods, each a few lines.
 */
@Configuration(proxyBeanMethods = false)
public class GameStateConfiguration {

  /** The audience service tokens name to call game-state. */
  public static final String SERVICE_NAME = "game-state";

  /**
   * Who may call what: players their own state and intents; other game-state instances the
   * two-phase commit steps; game servers grants and matches, each by its scope.
   */
  @Bean
  SecurityWebFilterChain security(ServerHttpSecurity http, CitadelSecurity citadel) {
    return citadel.serviceChain(
        http,
        routes ->
            routes
                .pathMatchers("/internal/tx/**")
                .hasAuthority(Scopes.authority(Scopes.TX_PARTICIPATE))
                .pathMatchers(HttpMethod.GET, "/internal/players/*/ratings/*")
                .hasAuthority(Scopes.authority(Scopes.RATINGS_READ))
                .pathMatchers("/internal/players/*/grants")
                .hasAuthority(Scopes.authority(Scopes.GAME_GRANT))
                .pathMatchers(HttpMethod.GET, "/internal/matches/**")
                .hasAuthority(Scopes.authority(Scopes.MATCH_READ))
                .pathMatchers("/internal/matches/**")
                .hasAuthority(Scopes.authority(Scopes.MATCH_RESULTS)),
        "/api/**",
        "/ws");
  }

  @Bean
  Catalogue catalogue(GameStateProperties props) {
    return new Catalogue(
        props.gameState().catalogue() == null ? Map.of() : props.gameState().catalogue());
  }

  @Bean(destroyMethod = "dispose")
  ConnectionPool connectionPool(GameStateProperties props) {
    dev.citadel.eventstore.PostgresSettings pg = props.postgres();
    // Schema first, over JDBC: Flyway does not speak R2DBC.
    return Connections.migratedPool(pg.url(), pg.user(), pg.password(), pg.poolSize());
  }

  @Bean
  PostgresEventStore eventStore(ConnectionPool pool, GameStateProperties props) {
    GameStateProperties.GameState gs = props.gameState();
    EventStoreOptions options =
        EventStoreOptions.defaults()
            .withPolicy(PlayerAggregate.NAME, playerSnapshots(props))
            .withPolicy(
                dev.citadel.gamestate.rooms.RoomAllocator.CHANNEL_TYPE,
                dev.citadel.gamestate.rooms.RoomAllocator.CHANNEL_SNAPSHOTS)
            .withMaxQueuedAppends(props.gameState().overload().maxQueuedAppends());
    if (gs.outbox().enabled()) {
      options = options.withOutbox(gs.outbox().name());
    }
    return new PostgresEventStore(pool, options);
  }

  static SnapshotPolicy playerSnapshots(GameStateProperties props) {
    GameStateProperties.GameState gs = props.gameState();
    return new SnapshotPolicy(gs.snapshotEvery(), true, gs.keepSnapshots());
  }

  @Bean(destroyMethod = "close")
  MessagePublisher messagePublisher(GameStateProperties props) {
    KafkaSettings settings = props.kafka().settings(props.instanceId());
    GameStateProperties.GameState gs = props.gameState();
    KafkaTopics.ensure(
        settings,
        List.of(
            gs.accountsTopic(),
            gs.rooms().foundTopic(),
            gs.rooms().assignedTopic(),
            gs.rooms().rejectedTopic(),
            gs.rooms().endedTopic(),
            gs.outbox().topic()));
    return new ReactorKafkaPublisher(settings);
  }

  @Bean
  LocalParticipant localParticipant(
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host,
      GameStateProperties props,
      Clock clock) {
    return new LocalParticipant(
        host, new PlayerAggregate(), clock, props.gameState().transactions().holdFor());
  }

  /** The game-state instances, as the gateway knows them. */
  static List<String> instances(GameStateProperties props) {
    GameStateProperties.Transactions t = props.gameState().transactions();
    List<String> instances =
        t.instances() == null
            ? List.of()
            : t.instances().stream().map(String::trim).filter(u -> !u.isEmpty()).toList();
    if (!instances.isEmpty() && !instances.contains(t.selfUrl())) {
      throw new IllegalStateException(
          "citadel.game-state.transactions.self-url ("
              + t.selfUrl()
              + ") must be one of the instances "
              + instances);
    }
    return instances;
  }

  /**
   * The instances that answer their readiness probe, probed as the gateway probes them, so that a
   * two-phase commit asks the owner the gateway routes the player to, and never one that is down.
   */
  @Bean
  GameStateInstances peers(GameStateProperties props) {
    List<java.net.URI> uris = instances(props).stream().map(java.net.URI::create).toList();
    return new GameStateInstances(
        () -> reactor.core.publisher.Flux.fromIterable(uris),
        WebClient.builder().build(),
        props.gameState().transactions().probeInterval(),
        props.gameState().transactions().probeTimeout());
  }

  @Bean
  BackgroundTasks peerProbes(GameStateInstances peers) {
    return BackgroundTasks.of(peers::start);
  }

  @Bean
  Coordinator coordinator(
      EventStore store,
      LocalParticipant local,
      GameStateProperties props,
      GameStateInstances peers,
      ServiceTokens tokens,
      Clock clock,
      io.micrometer.core.instrument.MeterRegistry meters) {
    GameStateProperties.Transactions t = props.gameState().transactions();
    List<String> instances = instances(props);
    // Before the first round of probes answers, every configured instance counts.
    java.util.function.Supplier<List<String>> routable =
        () -> {
          List<java.net.URI> healthy = peers.healthy();
          if (healthy.isEmpty()) {
            return instances;
          }
          List<String> up =
              new java.util.ArrayList<>(healthy.stream().map(java.net.URI::toString).toList());
          if (!up.contains(t.selfUrl())) {
            up.add(t.selfUrl()); // serving this request: up, whatever a probe just said
          }
          return up;
        };
    // Calls to other instances carry this instance's service token (tx.participate).
    return new Coordinator(
        store,
        new Owners(
            routable,
            t.selfUrl(),
            local,
            url ->
                new RemoteParticipant(
                    WebClient.builder().baseUrl(url).filter(tokens.bearer(SERVICE_NAME)).build(),
                    meters)),
        new Coordinator.Settings(t.prepareTimeout(), t.commitTimeout()),
        clock,
        meters);
  }

  @Bean
  AggregateHost<PlayerState, PlayerCommand, PlayerEvent> playerHost(
      EventStore store,
      GameStateProperties props,
      List<AfterCommit<PlayerState, PlayerEvent>> hooks,
      MeterRegistry meters) {
    GameStateProperties.GameState gs = props.gameState();
    return new AggregateHost<>(
        new PlayerAggregate(),
        store,
        playerSnapshots(props),
        new HostOptions(
            gs.idleTimeout(),
            gs.maxResident(),
            gs.maxConcurrentRecoveries(),
            gs.sweepInterval(),
            gs.overload().maxPendingPerPlayer(),
            gs.overload().maxWaitingRecoveries(),
            gs.overload().maxWaitingReads(),
            HostOptions.READ_AHEAD_TIMEOUT),
        hooks,
        meters,
        System::nanoTime);
  }

  /** Each queue's ratings and rewards. */
  @Bean
  java.util.function.Function<String, dev.citadel.gamestate.results.QueueRules> queueRules(
      GameStateProperties props) {
    GameStateProperties.Results results = props.gameState().results();
    return results::rules;
  }

  @Bean
  dev.citadel.gamestate.results.MatchResults matchResults(
      MatchRooms rooms,
      Coordinator coordinator,
      java.util.function.Function<String, dev.citadel.gamestate.results.QueueRules> rules,
      MeterRegistry meters) {
    return new dev.citadel.gamestate.results.MatchResults(rooms, coordinator, rules, meters);
  }

  @Bean
  MatchRooms matchRooms(
      PostgresEventStore store,
      MessagePublisher publisher,
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host,
      GameStateProperties props,
      Clock clock,
      MeterRegistry meters) {
    GameStateProperties.Rooms r = props.gameState().rooms();
    return new MatchRooms(
        new RoomAllocator(store, r.channels(), r.roomsPerChannel()),
        publisher,
        host,
        clock,
        r.foundTopic(),
        r.assignedTopic(),
        r.rejectedTopic(),
        r.endedTopic(),
        props.gameState().outbox().topic(),
        MatchRooms.RATED_WITHIN,
        meters);
  }

  /**
   * Passivation, the outbox, the consumers and the sweeps: started with the application, stopped
   * before the pool closes.
   */
  @Bean
  BackgroundTasks background(
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host,
      MatchRooms rooms,
      PostgresEventStore store,
      ConnectionPool pool,
      MessagePublisher publisher,
      org.springframework.data.redis.core.ReactiveStringRedisTemplate redis,
      GameStateProperties props,
      Clock clock,
      MeterRegistry meters) {
    GameStateProperties.Outbox outbox = props.gameState().outbox();
    OutboxPublisher outboxPublisher =
        outbox.enabled()
            ? new OutboxPublisher(
                pool,
                publisher,
                outbox.name(),
                outbox.topic(),
                outbox.batchSize(),
                outbox.idlePoll(),
                meters)
            : null;
    KafkaSettings kafka = props.kafka().settings(props.instanceId());
    AccountRegistrations accounts =
        new AccountRegistrations(
            new ReactorKafkaConsumer(kafka, publisher, meters),
            host,
            props.gameState().accountsTopic());
    List<BackgroundTasks.Task> tasks = new ArrayList<>();
    tasks.add(host::startPassivation);
    if (outboxPublisher != null) {
      tasks.add(
          () -> {
            // Stopped gracefully: the round in hand sent, the lease given up for the next replica.
            OutboxPublisher.Running running = outboxPublisher.start();
            return BackgroundTasks.Graceful.of(running, running::finish);
          });
    }
    tasks.addAll(
        List.of(
            () -> accounts.start(),
            () -> rooms.start(new ReactorKafkaConsumer(kafka, publisher, meters)),
            () ->
                new dev.citadel.gamestate.rooms.GameTimeouts(
                        store, rooms, props.gameState().results().maxGameLength(), clock, meters)
                    .start(props.gameState().results().sweepInterval()),
            () ->
                KeyRetention.start(
                    store, Duration.ofHours(1), props.gameState().idempotencyKeysKept(), clock),
            () ->
                new dev.citadel.gamestate.leaderboard.LeaderboardRebuild(store, host, redis, meters)
                    .start(Duration.ofMinutes(1))));
    return new BackgroundTasks(tasks);
  }
}
