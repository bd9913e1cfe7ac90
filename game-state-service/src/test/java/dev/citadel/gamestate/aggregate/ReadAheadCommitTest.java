package dev.citadel.gamestate.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.testing.OpenedPools;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A participant's commit from events read ahead for several players in one query, against real
 * PostgreSQL: the transaction's events are applied once, with their after-commit work; a read made
 * before the store (which a commit never follows) does not release the hold without them.
 */
@CitadelInfra
class ReadAheadCommitTest {
  @RegisterExtension static final OpenedPools POOLS = new OpenedPools();

  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  static final PlayerAggregate TYPE = new PlayerAggregate();
  static PostgresEndpoint db;
  static PostgresEventStore store;

  @BeforeAll
  static void migrate() {
    db = SharedInfra.postgresDatabase("gamestate_read_ahead_test");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
    store = new PostgresEventStore(POOLS.open(db, 4), EventStoreOptions.defaults());
  }

  /** What the after-commit hook saw: player and events, one entry per run. */
  final List<String> committed = new CopyOnWriteArrayList<>();

  AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host() {
    return host(store);
  }

  AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host(EventStore journal) {
    return new AggregateHost<>(
        TYPE,
        journal,
        SnapshotPolicy.DEFAULT,
        // Reads held on purpose below must not time out while the test does its next steps.
        HostOptions.defaults().withReadAheadTimeout(Duration.ofSeconds(60)),
        List.of(
            (id, state, version, events) -> {
              committed.add(id + ":" + events);
              return Mono.empty();
            }),
        new SimpleMeterRegistry(),
        System::nanoTime);
  }

  static String player(AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host) {
    String id = "p-" + UUID.randomUUID();
    host.handle(id, new PlayerCommand.CreatePlayer("ahead", T), T).block();
    return id;
  }

  /** Prepared and stored as the coordinator does: the vote's events at its expected version. */
  static void prepareAndStore(
      AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host, String tx, String id) {
    Prepared<PlayerEvent> p =
        host.prepare(tx, id, new PlayerCommand.EarnGold(10, "tx"), Duration.ofSeconds(30)).block();
    store
        .append(
            new AppendRequest(
                "player",
                id,
                p.expectedVersion(),
                p.events().stream().map(TYPE::encode).toList(),
                T))
        .block();
  }

  @Test
  void players_committed_from_one_read_get_their_events_once_with_their_after_commit_work() {
    var host = host();
    String a = player(host);
    String b = player(host);
    prepareAndStore(host, "tx-1", a);
    prepareAndStore(host, "tx-1", b);
    committed.clear();

    ReadAhead ahead = host.readAhead(List.of(a, b)).block();
    assertThat(ahead.from(a)).isPresent();
    assertThat(ahead.after(a, 1)).hasSize(1);
    host.commitPrepared("tx-1", a, ahead).block();
    host.commitPrepared("tx-1", b, ahead).block();
    host.commitPrepared("tx-1", a, ahead).block(); // a commit sent again

    assertThat(host.get(a).block().state().gold()).isEqualTo(10);
    assertThat(host.get(b).block().state().gold()).isEqualTo(10);
    assertThat(committed).hasSize(2).anyMatch(c -> c.startsWith(a)).anyMatch(c -> c.startsWith(b));
    // Not held any more: the next command runs.
    assertThat(host.handle(a, new PlayerCommand.EarnGold(1, "after"), T).block().state().gold())
        .isEqualTo(11);
  }

  @Test
  void a_read_made_before_the_store_does_not_release_the_hold_without_its_events() {
    var host = host();
    String a = player(host);
    host.prepare("tx-2", a, new PlayerCommand.EarnGold(10, "tx"), Duration.ofSeconds(30)).block();
    ReadAhead early = host.readAhead(List.of(a)).block();
    Prepared<PlayerEvent> p =
        host.prepare("tx-2", a, new PlayerCommand.EarnGold(10, "tx"), Duration.ofSeconds(30))
            .block();
    store
        .append(
            new AppendRequest(
                "player",
                a,
                p.expectedVersion(),
                p.events().stream().map(TYPE::encode).toList(),
                T))
        .block();
    committed.clear();

    host.commitPrepared("tx-2", a, early).block();

    assertThat(host.get(a).block().state().gold()).isEqualTo(10);
    assertThat(committed).as("with its after-commit work").hasSize(1);
  }

  @Test
  void read_aheads_of_commits_that_arrive_together_share_one_query_each_with_its_own_events()
      throws Exception {
    // The first two reads (as many as run at once) are held at the database until released: the
    // two that ask meanwhile wait for the next lookup, and go in it together.
    AtomicInteger queries = new AtomicInteger();
    Sinks.Empty<Void> gate = Sinks.empty();
    EventStore gated =
        (EventStore)
            Proxy.newProxyInstance(
                EventStore.class.getClassLoader(),
                new Class<?>[] {EventStore.class},
                (proxy, method, args) -> {
                  Object out;
                  try {
                    out = method.invoke(store, args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                  }
                  if (method.getName().equals("readStreams")) {
                    return queries.incrementAndGet() <= 2
                        ? gate.asMono().thenMany((Flux<?>) out)
                        : out;
                  }
                  return out;
                });
    var host = host(gated);
    String a = player(host);
    String b = player(host);
    String c = player(host);
    prepareAndStore(host, "tx-a", a);
    prepareAndStore(host, "tx-b", b);
    prepareAndStore(host, "tx-c", c);

    var first = host.readAhead(List.of(a)).toFuture();
    var alsoFirst = host.readAhead(List.of(c)).toFuture();
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> queries.get() == 2);
    // b asked at version 1; then b's transaction commits (its own read), another is stored for
    // it, and b is asked again at version 2, with c: one stream asked at two versions.
    var second = host.readAhead(List.of(b)).toFuture();
    host.commitPrepared("tx-b", b).block();
    prepareAndStore(host, "tx-b2", b);
    var third = host.readAhead(List.of(b, c)).toFuture();
    gate.tryEmitEmpty();

    ReadAhead forA = first.get(10, TimeUnit.SECONDS);
    assertThat(alsoFirst.get(10, TimeUnit.SECONDS).after(c, 1)).hasSize(1);
    ReadAhead forB = second.get(10, TimeUnit.SECONDS);
    ReadAhead forBc = third.get(10, TimeUnit.SECONDS);
    assertThat(queries).as("the two that waited went in one query").hasValue(3);
    assertThat(forA.after(a, 1)).hasSize(1);
    assertThat(forA.after(b, 0)).as("only its own streams' events").isEmpty();
    assertThat(forB.from(b)).hasValue(1);
    assertThat(forB.after(b, 1)).extracting(e -> e.seq()).containsExactly(2L, 3L);
    assertThat(forB.after(c, 0)).as("only its own streams' events").isEmpty();
    assertThat(forBc.from(b)).hasValue(2);
    assertThat(forBc.after(b, 0)).extracting(e -> e.seq()).containsExactly(3L);
    assertThat(forBc.after(c, 1)).hasSize(1);

    host.commitPrepared("tx-a", a, forA).block();
    host.commitPrepared("tx-b2", b, forBc).block();
    host.commitPrepared("tx-c", c, forBc).block();
    assertThat(host.get(a).block().state().gold()).isEqualTo(10);
    assertThat(host.get(b).block().state().gold()).isEqualTo(20);
    assertThat(host.get(c).block().state().gold()).isEqualTo(10);
  }

  /** The store, counting every call that reads the journal. */
  static EventStore counting(AtomicInteger reads) {
    return (EventStore)
        Proxy.newProxyInstance(
            EventStore.class.getClassLoader(),
            new Class<?>[] {EventStore.class},
            (proxy, method, args) -> {
              if (method.getName().startsWith("read") || method.getName().startsWith("load")) {
                reads.incrementAndGet();
              }
              try {
                return method.invoke(store, args);
              } catch (java.lang.reflect.InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  @Test
  void a_vote_its_coordinator_stored_is_committed_without_a_read_once_with_its_work() {
    AtomicInteger reads = new AtomicInteger();
    var host = host(counting(reads));
    String a = player(host);
    prepareAndStore(host, "tx-s", a);
    committed.clear();
    reads.set(0);

    host.commitPrepared("tx-s", a, ReadAhead.none(), 1L, T).block();

    assertThat(reads).as("nothing read back").hasValue(0);
    assertThat(committed).hasSize(1).allMatch(c -> c.startsWith(a));
    // A commit sent again finds nothing held and nothing newer: the events are applied once.
    host.commitPrepared("tx-s", a, ReadAhead.none(), 1L, T).block();
    assertThat(committed).hasSize(1);
    assertThat(host.get(a).block().state().gold()).isEqualTo(10);
    assertThat(host.handle(a, new PlayerCommand.EarnGold(1, "after"), T).block().state().gold())
        .as("released, and the next command's expected version is the stored one")
        .isEqualTo(11);
  }

  @Test
  void a_stored_version_that_is_not_the_held_votes_is_committed_from_the_journal() {
    AtomicInteger reads = new AtomicInteger();
    var host = host(counting(reads));
    String a = player(host);
    prepareAndStore(host, "tx-w", a);
    committed.clear();
    reads.set(0);

    // Another version than the vote expected (not this vote's store): the journal decides.
    host.commitPrepared("tx-w", a, ReadAhead.none(), 0L, T).block();

    assertThat(reads).as("read from the journal").hasPositiveValue();
    assertThat(committed).hasSize(1);
    assertThat(host.get(a).block().state().gold()).isEqualTo(10);
  }

  @Test
  void players_not_in_memory_read_their_own() {
    var writer = host();
    String a = player(writer);
    var other = host(); // a's copy is not here
    assertThat(other.readAhead(List.of(a)).block().from(a)).isEmpty();
    assertThat(other.get(a).block().state().nickname()).isEqualTo("ahead");
  }
}
