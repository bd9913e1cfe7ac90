package dev.citadel.gamestate.rooms;

import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.LoadedStream;
import dev.citadel.eventstore.Snapshot;
import java.time.Clock;
import java.util.BitSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Snapshots of the channels' streams. A channel gains two events per game played in it, for as long
 * as the platform runs; without snapshots an instance's first use of a channel read and held its
 * whole history (until 2026-12-08: at a hundred results a second, about 170,000 events a channel a
 * day, read at every start and past the database's statement timeout within weeks).
 *
 * <p>A snapshot is the rooms in use at a version ({@link BitSet#toByteArray()}: bit {@code r} set
 * for room {@code r} taken). One is saved, best effort, when a channel this instance holds has
 * moved {@link #EVERY} events past the newest snapshot it knows of. The events behind a snapshot
 * are kept ({@link #POLICY}): an instance of the release before this one reads a channel whole and
 * would fail on a cut history during a rolling update. Cutting them is the next release's step,
 * once every instance reads snapshots.
 */
final class ChannelSnapshots {
  /** The event store's policy for channel streams: snapshots kept, no events deleted. */
  static final dev.citadel.eventstore.SnapshotPolicy POLICY =
      new dev.citadel.eventstore.SnapshotPolicy(Integer.MAX_VALUE, false, 2);

  /** The snapshot's type (its payload is not protobuf: a bit set's bytes, little-endian). */
  static final String TYPE = "citadel.rooms.ChannelRooms";

  /** Events a channel moves on between two snapshots. */
  static final int EVERY = 1_000;

  private static final Logger log = LoggerFactory.getLogger(ChannelSnapshots.class);

  private final EventStore store;
  private final Clock clock;
  private final int every;

  /** The newest snapshot's version this instance knows of, by channel. */
  private final Map<Integer, Long> savedAt = new ConcurrentHashMap<>();

  /** Channels with a save under way (one at a time each). */
  private final Set<Integer> saving = ConcurrentHashMap.newKeySet();

  ChannelSnapshots(EventStore store, Clock clock, int every) {
    this.store = store;
    this.clock = clock;
    this.every = every;
  }

  /** The channel's newest snapshot, if any, and its events after it. */
  Mono<LoadedStream> load(int channel) {
    return store
        .load(RoomAllocator.channelStream(channel))
        .doOnNext(
            loaded ->
                loaded.snapshot().ifPresent(s -> savedAt.merge(channel, s.version(), Math::max)));
  }

  /** The rooms in use a snapshot records; a type it does not know is a broken journal. */
  static BitSet rooms(Snapshot snapshot) {
    if (!TYPE.equals(snapshot.type())) {
      throw new IllegalStateException(
          "unknown snapshot type " + snapshot.type() + " for " + snapshot.aggregateId());
    }
    return BitSet.valueOf(snapshot.payload());
  }

  /**
   * The channel is at {@code version} with {@code used} taken (a state this instance holds, never
   * changed after): saved as a snapshot if it is {@link #EVERY} events past the newest one known
   * here. In the background; a failure is logged and the next state tries again.
   */
  void reached(int channel, long version, BitSet used) {
    if (version - savedAt.getOrDefault(channel, 0L) < every || !saving.add(channel)) {
      return;
    }
    byte[] payload = used.toByteArray();
    store
        .saveSnapshot(
            new Snapshot(
                RoomAllocator.CHANNEL_TYPE,
                RoomAllocator.channelStream(channel),
                version,
                TYPE,
                payload,
                clock.instant()))
        .doFinally(s -> saving.remove(channel))
        .subscribe(
            done -> {},
            e ->
                log.warn(
                    "channel {} not snapshotted at version {}: {}", channel, version, e.toString()),
            () -> savedAt.merge(channel, version, Math::max));
  }
}
