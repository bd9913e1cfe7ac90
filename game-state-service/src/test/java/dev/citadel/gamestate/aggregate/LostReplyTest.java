package dev.citadel.gamestate.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.Appended;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.EventStoreOptions;
import dev.citadel.eventstore.EventStoreSchema;
import dev.citadel.eventstore.IdempotencyKey;
import dev.citadel.eventstore.PostgresEventStore;
import dev.citadel.eventstore.SnapshotPolicy;
import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.gamestate.storage.PlayerAggregate;
import dev.citadel.gamestate.testing.ForwardingEventStore;
import dev.citadel.gamestate.testing.OpenedPools;
import dev.citadel.infra.junit.CitadelInfra;
import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;

/**
 * A single-player append whose outcome is ambiguous (written, then the connection is lost before
 * the reply) is looked up, against real PostgreSQL: answered as done, once; one that was not
 * written stays a failure.
 */
@CitadelInfra
class LostReplyTest {
  @RegisterExtension static final OpenedPools POOLS = new OpenedPools();

  static final Instant T = Instant.parse("2026-03-01T12:00:00Z");
  static PostgresEndpoint db;

  @BeforeAll
  static void migrate() {
    db = SharedInfra.postgresDatabase("gamestate_lost_reply_test");
    EventStoreSchema.migrate(db.jdbcUrl(), db.username(), db.password());
  }

  static PostgresEventStore store() {
    return new PostgresEventStore(POOLS.open(db, 4), EventStoreOptions.defaults());
  }

  static AggregateHost<PlayerState, PlayerCommand, PlayerEvent> host(EventStore store) {
    return new AggregateHost<>(
        new PlayerAggregate(),
        store,
        SnapshotPolicy.DEFAULT,
        HostOptions.defaults(),
        List.of(),
        new SimpleMeterRegistry(),
        System::nanoTime);
  }

  @Test
  void an_append_written_but_whose_reply_is_lost_is_answered_once_as_done() {
    PostgresEventStore real = store();
    FaultyAppends faulty = new FaultyAppends(real);
    var host = host(faulty);
    String player = "p-" + UUID.randomUUID();
    host.handle(player, new PlayerCommand.CreatePlayer("lost", T), T).block();

    faulty.landThenFail.set(1);
    var result = host.handle(player, new PlayerCommand.EarnGold(25, "quest"), T).block();

    assertThat(result.state().gold()).isEqualTo(25);
    assertThat(result.events()).hasSize(1);
    // The next command builds on it: nothing applied twice, nothing lost.
    assertThat(
            host.handle(player, new PlayerCommand.EarnGold(5, "quest"), T).block().state().gold())
        .isEqualTo(30);
    assertThat(host(real).get(player).block().state().gold()).isEqualTo(30);
  }

  @Test
  void an_append_that_was_not_written_stays_a_failure() {
    PostgresEventStore real = store();
    FaultyAppends faulty = new FaultyAppends(real);
    var host = host(faulty);
    String player = "p-" + UUID.randomUUID();
    host.handle(player, new PlayerCommand.CreatePlayer("lost", T), T).block();

    faulty.failBefore.set(1);
    assertThatThrownBy(
            () -> host.handle(player, new PlayerCommand.EarnGold(25, "quest"), T).block())
        .hasMessageContaining("injected");

    assertThat(host.get(player).block().state().gold()).isZero();
    assertThat(
            host.handle(player, new PlayerCommand.EarnGold(5, "quest"), T).block().state().gold())
        .isEqualTo(5);
  }

  /**
   * A keyed command whose reply is lost while another instance wrote the very same events at the
   * very same version under another key (the same purchase, the same grant): not ours. Taken for
   * ours (the events compared equal), the command was answered done, its key never stored, and a
   * retry with that key applied it after all.
   */
  @Test
  void a_keyed_append_is_known_by_its_key_not_by_events_that_look_the_same() {
    PostgresEventStore real = store();
    FaultyAppends faulty = new FaultyAppends(real);
    var host = host(faulty);
    String player = "p-" + UUID.randomUUID();
    host.handle(player, new PlayerCommand.CreatePlayer("lost", T), T).block();

    faulty.anotherWritesTheSame.set(1);
    IdempotencyKey key = IdempotencyKey.of("quest-1", "earn 25");
    var result = host.handle(player, new PlayerCommand.EarnGold(25, "quest"), T, key).block();

    // The other writer's 25, then ours, decided again on top of it, with our key.
    assertThat(result.state().gold()).isEqualTo(50);
    assertThat(real.findKey(player, key.value()).block()).isNotNull();
    assertThat(
            host.handle(player, new PlayerCommand.EarnGold(25, "quest"), T, key).block().repeated())
        .isTrue();
    assertThat(host(real).get(player).block().state().gold()).isEqualTo(50);
  }

  /**
   * A keyed command whose reply is lost while another instance stored another request under the
   * same key at the same version (a client that reused its key): that key is not ours, its
   * fingerprint says so. Taken for ours, this instance's copy held the command's events, never
   * stored, on top of which later appends at matching versions would build.
   */
  @Test
  void a_key_found_with_another_requests_fingerprint_is_not_ours() {
    PostgresEventStore real = store();
    FaultyAppends faulty = new FaultyAppends(real);
    var host = host(faulty);
    String player = "p-" + UUID.randomUUID();
    host.handle(player, new PlayerCommand.CreatePlayer("lost", T), T).block();

    faulty.anotherFirst =
        () ->
            host(real)
                .handle(
                    player,
                    new PlayerCommand.EarnGold(10, "quest"),
                    T,
                    IdempotencyKey.of("quest-1", "earn 10"))
                .then();
    assertThatThrownBy(
            () ->
                host.handle(
                        player,
                        new PlayerCommand.EarnGold(25, "quest"),
                        T,
                        IdempotencyKey.of("quest-1", "earn 25"))
                    .block())
        .isInstanceOf(KeyReused.class);

    assertThat(host.get(player).block().state().gold()).isEqualTo(10);
    assertThat(host(real).get(player).block().state().gold()).isEqualTo(10);
  }

  /** The real store; its next appends land and then fail, or fail before being sent. */
  static final class FaultyAppends extends ForwardingEventStore {
    final AtomicInteger landThenFail = new AtomicInteger();
    final AtomicInteger failBefore = new AtomicInteger();
    final AtomicInteger anotherWritesTheSame = new AtomicInteger();

    FaultyAppends(EventStore inner) {
      super(inner);
    }

    /** Runs once, before the next append, which then fails as if its connection was lost. */
    volatile java.util.function.Supplier<Mono<Void>> anotherFirst;

    @Override
    public Mono<Appended> append(AppendRequest request) {
      var another = anotherFirst;
      if (another != null) {
        anotherFirst = null;
        return another
            .get()
            .then(Mono.error(new IllegalStateException("connection reset (injected)")));
      }
      if (anotherWritesTheSame.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        AppendRequest theirs =
            new AppendRequest(
                request.aggregateType(),
                request.aggregateId(),
                request.expectedVersion(),
                request.events(),
                request.recordedAt(),
                java.util.Optional.empty());
        return inner
            .append(theirs)
            .then(Mono.error(new IllegalStateException("connection reset (injected)")));
      }
      if (failBefore.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return Mono.error(new IllegalStateException("connection refused (injected)"));
      }
      if (landThenFail.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        return inner
            .append(request)
            .then(
                Mono.error(new IllegalStateException("connection reset after COMMIT (injected)")));
      }
      return inner.append(request);
    }
  }
}
