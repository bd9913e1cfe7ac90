package dev.citadel.gamestate.testing;

import dev.citadel.eventstore.Connections;
import dev.citadel.infra.postgres.PostgresEndpoint;
import io.r2dbc.pool.ConnectionPool;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The connection pools a test class opens (one per simulated game-state instance), closed after the
 * class: every class of the test JVM shares one PostgreSQL server and its connection limit.
 * Registered with {@code @RegisterExtension static final OpenedPools POOLS = new OpenedPools();}.
 */
public final class OpenedPools implements AfterAllCallback {
  private final List<ConnectionPool> pools = new CopyOnWriteArrayList<>();

  /** A pool of at most {@code size} connections to the database, closed after the class. */
  public ConnectionPool open(PostgresEndpoint db, int size) {
    ConnectionPool pool =
        Connections.pool(db.host(), db.port(), db.database(), db.username(), db.password(), size);
    pools.add(pool);
    return pool;
  }

  @Override
  public void afterAll(ExtensionContext context) {
    pools.forEach(ConnectionPool::dispose);
    pools.clear();
  }
}
