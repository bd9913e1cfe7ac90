package dev.citadel.eventstore;

import dev.citadel.infra.junit.SharedInfra;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.r2dbc.pool.ConnectionPool;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.LongStream;

/** A migrated database of its own on the shared PostgreSQL, and small helpers for tests. */
final class StoreFixture {
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  final PostgresEndpoint endpoint;
  final ConnectionPool pool;

  StoreFixture(String database) {
    endpoint = SharedInfra.postgresDatabase(database);
    EventStoreSchema.migrate(endpoint.jdbcUrl(), endpoint.username(), endpoint.password());
    pool =
        Connections.pool(
            endpoint.host(),
            endpoint.port(),
            endpoint.database(),
            endpoint.username(),
            endpoint.password(),
            8);
  }

  PostgresEventStore store(EventStoreOptions options) {
    return new PostgresEventStore(pool, options);
  }

  static String newId() {
    return "agg-" + UUID.randomUUID();
  }

  /** A "counter" event: adds {@code n}; the payload is 8 bytes. */
  static EventData add(long n) {
    return new EventData("test.Added", ByteBuffer.allocate(8).putLong(n).array());
  }

  static long amount(byte[] payload) {
    return ByteBuffer.wrap(payload).getLong();
  }

  static AppendRequest append(String id, long expected, long... amounts) {
    return new AppendRequest(
        "counter",
        id,
        expected,
        LongStream.of(amounts).mapToObj(StoreFixture::add).toList(),
        T0.plusSeconds(expected));
  }

  static List<Long> amounts(List<StoredEvent> events) {
    return events.stream().map(e -> amount(e.payload())).toList();
  }
}
