package dev.citadel.gamestate.rooms;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.StoredEvent;
import dev.citadel.protocol.match.v1.MatchCancelled;
import dev.citadel.protocol.match.v1.MatchEnded;
import dev.citadel.protocol.match.v1.MatchPlaced;
import dev.citadel.protocol.match.v1.RoomFreed;
import dev.citadel.protocol.match.v1.RoomTaken;
import java.time.Instant;
import java.util.List;

/**
 * The room journal's events as protobuf, both ways: a channel's {@code RoomTaken} and {@code
 * RoomFreed}, a match's {@code MatchPlaced}, {@code MatchCancelled} and {@code MatchEnded}. Pure;
 * {@link RoomAllocator} decides what to write.
 */
final class MatchJournal {
  static final String TAKEN = RoomTaken.getDescriptor().getFullName();
  static final String FREED = RoomFreed.getDescriptor().getFullName();
  static final String PLACED = MatchPlaced.getDescriptor().getFullName();
  static final String ENDED = MatchEnded.getDescriptor().getFullName();
  static final String CANCELLED = MatchCancelled.getDescriptor().getFullName();

  private MatchJournal() {}

  static MatchPlaced placed(RoomAllocator.Request r, int channel, int room, Instant at) {
    return MatchPlaced.newBuilder()
        .setMatchId(r.matchId())
        .setChannel(channel)
        .setRoom(room)
        .addAllPlayerIds(r.players())
        .setQueue(r.queue())
        .addAllPlayers(r.lineup())
        .setPlacedAtEpochMs(at.toEpochMilli())
        .build();
  }

  /** The message (and the match stream's event) for an ended game. */
  static MatchEnded message(RoomAllocator.Ended e, Instant at) {
    return MatchEnded.newBuilder()
        .setMatchId(e.matchId())
        .setQueue(e.queue())
        .setChannel(e.channel())
        .setRoom(e.room())
        .addAllPlayerIds(e.players())
        .setEndedAtEpochMs(at.toEpochMilli())
        .setResult(e.result())
        .putAllScores(e.scores())
        .build();
  }

  static MatchEnded parseEnded(StoredEvent e) {
    try {
      return MatchEnded.parseFrom(e.payload());
    } catch (InvalidProtocolBufferException ex) {
      throw new IllegalStateException("corrupt end " + e.aggregateId(), ex);
    }
  }

  static AppendRequest cancellation(String matchId, String queue, String reason, Instant at) {
    MatchCancelled cancelled =
        MatchCancelled.newBuilder()
            .setMatchId(matchId)
            .setQueue(queue)
            .setReason(reason)
            .setCancelledAtEpochMs(at.toEpochMilli())
            .build();
    return new AppendRequest(
        RoomAllocator.MATCH_TYPE,
        RoomAllocator.stream(matchId),
        0,
        List.of(new EventData(CANCELLED, cancelled.toByteArray())),
        at);
  }

  static MatchCancelled parseCancelled(StoredEvent e) {
    try {
      return MatchCancelled.parseFrom(e.payload());
    } catch (InvalidProtocolBufferException ex) {
      throw new IllegalStateException("corrupt cancellation " + e.aggregateId(), ex);
    }
  }

  static EventData freed(int room, String matchId) {
    return new EventData(
        FREED, RoomFreed.newBuilder().setRoom(room).setMatchId(matchId).build().toByteArray());
  }

  /** The match stream's first event, expected at version 0: a match is placed at most once. */
  static AppendRequest placement(MatchPlaced placed, Instant at) {
    return new AppendRequest(
        RoomAllocator.MATCH_TYPE,
        RoomAllocator.stream(placed.getMatchId()),
        0,
        List.of(new EventData(PLACED, placed.toByteArray())),
        at);
  }

  static EventData taken(int room, String matchId) {
    return new EventData(
        TAKEN, RoomTaken.newBuilder().setRoom(room).setMatchId(matchId).build().toByteArray());
  }

  static MatchPlaced parse(StoredEvent e) {
    try {
      return MatchPlaced.parseFrom(e.payload());
    } catch (InvalidProtocolBufferException ex) {
      throw new IllegalStateException("corrupt placement " + e.aggregateId(), ex);
    }
  }

  static Placement placement(MatchPlaced p) {
    return new Placement(
        p.getMatchId(), p.getChannel(), p.getRoom(), List.copyOf(p.getPlayerIdsList()));
  }
}
