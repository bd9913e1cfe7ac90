package dev.citadel.messaging;

import java.util.List;
import reactor.core.Disposable;

/**
 * Consumes topics at least once: messages of one partition are handled strictly in order, one at a
 * time; different partitions in parallel; an offset is committed only after its handler completed.
 */
public interface MessageConsumer {

  /**
   * Starts consuming in the given group until the returned {@link Disposable} is disposed.
   *
   * @param handler called for every message; see {@link MessageHandler}
   */
  Disposable start(String groupId, List<String> topics, MessageHandler handler);

  /**
   * Like {@link #start}, but hands the handler up to {@code maxBatch} consecutive messages of one
   * partition at once (whatever has arrived; a lone message is not held back). A batch that fails
   * with {@link Unprocessable} is run again message by message, so the bad message is dead-lettered
   * on its own; any other failure is taken as passing (a database away) and the whole batch is
   * retried, for as long as it takes. So a handler must answer {@link Unprocessable} for input that
   * will fail the same way every time, or its partition waits for good.
   */
  Disposable startBatched(String groupId, List<String> topics, int maxBatch, BatchHandler handler);
}
