package dev.citadel.gamestate.rooms;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.StoredEvent;
import dev.citadel.protocol.match.v1.MatchPlaced;
import dev.citadel.protocol.match.v1.RoomFreed;
import dev.citadel.protocol.match.v1.RoomTaken;
import java.time.Instant;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Mono;

/**
 * Rooms: {@code channels} x {@code roomsPerChannel}, channel 0 room 0 reserved. A placement is two
 * streams appended in ONE transaction: the channel's {@code RoomTaken} (expected version: no room
 * handed out twice) and the match's {@code MatchPlaced} (expected version 0: a match placed at most
 * once). A redelivered match therefore finds its placement and gets the same room.
 */
public final class RoomAllocator {
  static final String CHANNEL_TYPE = "channel";
  static final String MATCH_TYPE = "match-room";
  private static final String TAKEN = RoomTaken.getDescriptor().getFullName();
  private static final String FREED = RoomFreed.getDescriptor().getFullName();
  private static final String PLACED = MatchPlaced.getDescriptor().getFullName();
  private static final int MAX_CONFLICTS = 16;

  /** One channel's rooms as far as this instance knows (the store decides). */
  private record Channel(long version, BitSet used) {}

  /** A room free in {@code state}: the append must expect exactly that state's version. */
  private record Free(int channel, int room, Channel state) {}

  private final EventStore store;
  private final int channels;
  private final int roomsPerChannel;
  private final Map<Integer, Channel> known = new ConcurrentHashMap<>();

  public RoomAllocator(EventStore store, int channels, int roomsPerChannel) {
    this.store = store;
    this.channels = channels;
    this.roomsPerChannel = roomsPerChannel;
  }

  /** The match's room: the existing one if it was placed before; empty if every room is taken. */
  public Mono<Optional<Placement>> place(String matchId, List<String> players, Instant at) {
    return existing(matchId)
        .map(Optional::of)
        .switchIfEmpty(Mono.defer(() -> allocate(matchId, players, at, 0, firstChannel(matchId))));
  }

  private int firstChannel(String matchId) {
    return Math.floorMod(matchId.hashCode(), channels);
  }

  private Mono<Placement> existing(String matchId) {
    return store
        .readStream(stream(matchId))
        .filter(e -> e.type().equals(PLACED))
        .next()
        .map(e -> placement(parse(e)));
  }

  private Mono<Optional<Placement>> allocate(
      String matchId, List<String> players, Instant at, int conflicts, int startChannel) {
    return findFree(startChannel, 0)
        .flatMap(
            free -> {
              int channel = free.channel();
              int room = free.room();
              // The version the room was found free at, never the cache's current one: another
              // placement on this instance may have taken the same room meanwhile.
              Channel state = free.state();
              MatchPlaced placed =
                  MatchPlaced.newBuilder()
                      .setMatchId(matchId)
                      .setChannel(channel)
                      .setRoom(room)
                      .addAllPlayerIds(players)
                      .build();
              List<AppendRequest> appends =
                  List.of(
                      new AppendRequest(
                          CHANNEL_TYPE,
                          channelStream(channel),
                          state.version(),
                          List.of(
                              new EventData(
                                  TAKEN,
                                  RoomTaken.newBuilder()
                                      .setRoom(room)
                                      .setMatchId(matchId)
                                      .build()
                                      .toByteArray())),
                          at),
                      new AppendRequest(
                          MATCH_TYPE,
                          stream(matchId),
                          0,
                          List.of(new EventData(PLACED, placed.toByteArray())),
                          at));
              return store
                  .appendAtomically(appends)
                  .map(
                      ok -> {
                        BitSet used = (BitSet) state.used().clone();
                        used.set(room);
                        Channel after = new Channel(state.version() + 1, used);
                        // Keep whichever copy is newer: a reload may already be past this one.
                        known.merge(
                            channel,
                            after,
                            (cur, mine) -> cur.version() >= mine.version() ? cur : mine);
                        return Optional.of(placement(placed));
                      })
                  .onErrorResume(
                      ConcurrencyConflict.class,
                      c -> {
                        if (c.aggregateId().equals(stream(matchId))) {
                          return existing(matchId).map(Optional::of); // placed meanwhile
                        }
                        // Another placement took rooms: reload (unless a newer copy is cached),
                        // retry.
                        known.remove(channel, state);
                        if (conflicts >= MAX_CONFLICTS) {
                          return Mono.error(c);
                        }
                        return allocate(matchId, players, at, conflicts + 1, channel);
                      });
            })
        .switchIfEmpty(Mono.just(Optional.empty()));
  }

  /** A free room, searching channels from {@code channel} on. */
  private Mono<Free> findFree(int channel, int searched) {
    if (searched >= channels) {
      return Mono.empty();
    }
    return channel(channel)
        .flatMap(
            state -> {
              int from = channel == 0 ? 1 : 0; // channel 0 room 0 is reserved
              int room = state.used().nextClearBit(from);
              if (room < roomsPerChannel) {
                return Mono.just(new Free(channel, room, state));
              }
              return findFree((channel + 1) % channels, searched + 1);
            });
  }

  private Mono<Channel> channel(int channel) {
    Channel cached = known.get(channel);
    if (cached != null) {
      return Mono.just(cached);
    }
    return store
        .readStream(channelStream(channel))
        .reduce(
            new Channel(0, new BitSet(roomsPerChannel)),
            (state, e) -> {
              BitSet used = state.used();
              try {
                if (e.type().equals(TAKEN)) {
                  used.set(RoomTaken.parseFrom(e.payload()).getRoom());
                } else if (e.type().equals(FREED)) {
                  used.clear(RoomFreed.parseFrom(e.payload()).getRoom());
                }
              } catch (InvalidProtocolBufferException ex) {
                throw new IllegalStateException("corrupt room event in channel " + channel, ex);
              }
              return new Channel(e.seq(), used);
            })
        .doOnNext(state -> known.put(channel, state));
  }

  static String stream(String matchId) {
    return "match-" + matchId;
  }

  static String channelStream(int channel) {
    return "channel-" + channel;
  }

  private static MatchPlaced parse(StoredEvent e) {
    try {
      return MatchPlaced.parseFrom(e.payload());
    } catch (InvalidProtocolBufferException ex) {
      throw new IllegalStateException("corrupt placement " + e.aggregateId(), ex);
    }
  }

  private static Placement placement(MatchPlaced p) {
    return new Placement(
        p.getMatchId(), p.getChannel(), p.getRoom(), List.copyOf(p.getPlayerIdsList()));
  }
}
