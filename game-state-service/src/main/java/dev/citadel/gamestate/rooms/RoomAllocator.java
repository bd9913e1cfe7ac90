package dev.citadel.gamestate.rooms;

import static dev.citadel.gamestate.rooms.MatchJournal.CANCELLED;
import static dev.citadel.gamestate.rooms.MatchJournal.ENDED;
import static dev.citadel.gamestate.rooms.MatchJournal.FREED;
import static dev.citadel.gamestate.rooms.MatchJournal.PLACED;
import static dev.citadel.gamestate.rooms.MatchJournal.TAKEN;
import static dev.citadel.gamestate.rooms.MatchJournal.cancellation;
import static dev.citadel.gamestate.rooms.MatchJournal.freed;
import static dev.citadel.gamestate.rooms.MatchJournal.message;
import static dev.citadel.gamestate.rooms.MatchJournal.parse;
import static dev.citadel.gamestate.rooms.MatchJournal.parseCancelled;
import static dev.citadel.gamestate.rooms.MatchJournal.placed;
import static dev.citadel.gamestate.rooms.MatchJournal.placement;
import static dev.citadel.gamestate.rooms.MatchJournal.taken;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.citadel.eventstore.AppendRequest;
import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.EventData;
import dev.citadel.eventstore.EventStore;
import dev.citadel.eventstore.StoredEvent;
import dev.citadel.gamestate.aggregate.KeyedBatches;
import dev.citadel.gamestate.aggregate.Overloaded;
import dev.citadel.protocol.match.v1.MatchEnded;
import dev.citadel.protocol.match.v1.MatchPlaced;
import dev.citadel.protocol.match.v1.MatchedPlayer;
import dev.citadel.protocol.match.v1.Result;
import dev.citadel.protocol.match.v1.RoomFreed;
import dev.citadel.protocol.match.v1.RoomTaken;
import java.time.Instant;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Rooms: {@code channels} x {@code roomsPerChannel}, channel 0 room 0 reserved. A placement is two
 * streams appended in ONE transaction: the channel's {@code RoomTaken} (expected version: no room
 * handed out twice) and the match's {@code MatchPlaced} (expected version 0: a match placed at most
 * once). A redelivered match therefore finds its placement and gets the same room.
 *
 * <p>A match's fate is decided at one point, version 1 of its stream: {@code MatchPlaced}, or
 * {@code MatchCancelled} (cancelled by match-service, or refused for want of a free room).
 * Whichever is appended first wins; a later placement or cancel of the same match only reads the
 * outcome. {@code MatchEnded} can only follow {@code MatchPlaced}.
 *
 * <p>Why one class of this size: placing and ending both read and write the channels' streams
 * through one cache of their versions and free rooms ({@code known}), and the batched paths
 * (placeAll, the ends per channel) must see each other's appends in it; splitting placement from
 * ending would first need that cache as a component of its own, which is the planned next step.
 */
public final class RoomAllocator {
  public static final String CHANNEL_TYPE = "channel";

  /** The event store's policy for {@link #CHANNEL_TYPE} streams ({@link ChannelSnapshots}). */
  public static final dev.citadel.eventstore.SnapshotPolicy CHANNEL_SNAPSHOTS =
      ChannelSnapshots.POLICY;

  static final String MATCH_TYPE = "match-room";
  static final String NO_ROOM = "no free room";
  private static final int MAX_CONFLICTS = 16;
  private static final int BATCH_ATTEMPTS = 3;

  /** One channel's rooms as far as this instance knows (the store decides). */
  private record Channel(long version, BitSet used) {}

  /** A room free in {@code state}: the append must expect exactly that state's version. */
  private record Free(int channel, int room, Channel state) {}

  private final EventStore store;
  private final int channels;
  private final int roomsPerChannel;
  private final Map<Integer, Channel> known = new ConcurrentHashMap<>();

  /** Copies found out of date, to read on from (see {@link #forget}). */
  private final Map<Integer, Channel> behind = new ConcurrentHashMap<>();

  private final KeyedBatches<Integer, Ending> ends =
      new KeyedBatches<>(
          this::endBatch,
          e -> e.ended().matchId(),
          MAX_ENDS_PER_BATCH,
          MAX_ENDS_WAITING,
          "match-ends");
  private static final int MAX_ENDS_PER_BATCH = 200;

  /**
   * Ends waiting for one channel's turn, at most: past it an end is refused at once (503), instead
   * of queueing without bound while the database stalls.
   */
  private static final int MAX_ENDS_WAITING = 4_096;

  private final ChannelSnapshots snapshots;

  public RoomAllocator(EventStore store, int channels, int roomsPerChannel) {
    this(store, channels, roomsPerChannel, ChannelSnapshots.EVERY);
  }

  /** {@code snapshotEvery}: events a channel moves on between two snapshots (tests: fewer). */
  RoomAllocator(EventStore store, int channels, int roomsPerChannel, int snapshotEvery) {
    this.store = store;
    this.channels = channels;
    this.roomsPerChannel = roomsPerChannel;
    this.snapshots = new ChannelSnapshots(store, java.time.Clock.systemUTC(), snapshotEvery);
  }

  /**
   * What became of a match: decided once, at version 1 of its stream, and answered the same to
   * every later placement or cancel.
   */
  public sealed interface Outcome {
    /** It has a room and its game is on. */
    record Placed(Placement placement) implements Outcome {}

    /** It will never be placed: cancelled, or no room was free when it came. */
    record Refused(String reason) implements Outcome {}

    /** It was placed and its game is over: it must not seat anyone again. */
    record Over(Placement placement) implements Outcome {}
  }

  /**
   * The match's room: the existing one if it was placed before (also if its game is over); empty if
   * it was refused or cancelled (now or before).
   */
  Mono<Optional<Placement>> place(String matchId, List<String> players, Instant at) {
    return place(new Request(matchId, players), at).map(RoomAllocator::room);
  }

  private static Optional<Placement> room(Outcome o) {
    if (o instanceof Outcome.Placed p) {
      return Optional.of(p.placement());
    }
    if (o instanceof Outcome.Over over) {
      return Optional.of(over.placement());
    }
    return Optional.empty(); // refused
  }

  private Mono<Outcome> place(Request r, Instant at) {
    return existing(r.matchId())
        .switchIfEmpty(Mono.defer(() -> allocate(r, at, 0, firstChannel(r.matchId()))));
  }

  /**
   * Cancels a match unless it was placed first: {@code MatchCancelled} at version 0 of its stream,
   * where {@code MatchPlaced} would go. Answers the outcome that stands: {@link Outcome.Refused} if
   * the cancel won (now or before), the placement if the match was placed first.
   */
  public Mono<Outcome> cancel(String matchId, String queue, String reason, Instant at) {
    return existing(matchId)
        .switchIfEmpty(
            Mono.defer(
                () ->
                    store
                        .appendAtomically(List.of(cancellation(matchId, queue, reason, at)))
                        .<Outcome>thenReturn(new Outcome.Refused(reason))
                        .onErrorResume(
                            ConcurrencyConflict.class, c -> existing(matchId)))); // raced
  }

  /**
   * A match to place: its id, players and queue, and its teams with each player's nickname and
   * rating at match time ({@code lineup}), all recorded with the placement.
   */
  public record Request(
      String matchId, List<String> players, String queue, List<MatchedPlayer> lineup) {
    public Request {
      lineup = List.copyOf(lineup);
    }

    public Request(String matchId, List<String> players, String queue) {
      this(matchId, players, queue, List.of());
    }

    public Request(String matchId, List<String> players) {
      this(matchId, players, "");
    }
  }

  /**
   * A game that is over: its room is free again; {@code result} as it was recorded; {@code
   * endedNow} when this call wrote the end (not when it found one written before, or lost the race
   * to another writer and read it back).
   */
  public record Ended(
      String matchId,
      String queue,
      int channel,
      int room,
      List<String> players,
      Result result,
      Map<String, Long> scores,
      boolean endedNow) {
    public Ended {
      scores = Map.copyOf(scores);
    }

    Ended writtenNow() {
      return new Ended(matchId, queue, channel, room, players, result, scores, true);
    }
  }

  /**
   * Places many matches with ONE transaction (all their rooms and placements together) instead of
   * one each; answers in request order. A match decided before keeps its outcome (its room, its
   * refusal, or its end); the same match twice in one call gets one room; a match that finds no
   * free room is refused for good (recorded in the same transaction). If other placements race this
   * one, the batch is tried again a few times, and then match by match.
   */
  public Mono<List<Outcome>> placeAll(List<Request> requests, Instant at) {
    if (requests.isEmpty()) {
      return Mono.just(List.of());
    }
    Map<String, Request> unique = new LinkedHashMap<>();
    requests.forEach(r -> unique.putIfAbsent(r.matchId(), r));
    List<Request> distinct = List.copyOf(unique.values());
    return placeDistinct(distinct, at, 0, firstChannel(distinct.get(0).matchId()))
        .map(byId -> requests.stream().map(r -> byId.get(r.matchId())).toList());
  }

  private Mono<Map<String, Outcome>> placeDistinct(
      List<Request> requests, Instant at, int attempt, int startChannel) {
    return existingAll(requests.stream().map(Request::matchId).toList())
        .flatMap(
            existing -> {
              List<Request> fresh =
                  requests.stream().filter(r -> !existing.containsKey(r.matchId())).toList();
              Map<String, Outcome> result = new HashMap<>(existing);
              if (fresh.isEmpty()) {
                return Mono.just(result);
              }
              return freeRooms(fresh.size(), startChannel)
                  .flatMap(free -> appendBatch(fresh, free, at))
                  .map(
                      placed -> {
                        result.putAll(placed);
                        return result;
                      })
                  .onErrorResume(
                      ConcurrencyConflict.class,
                      c -> {
                        if (attempt >= BATCH_ATTEMPTS) {
                          return Flux.fromIterable(requests)
                              .concatMap(r -> place(r, at).map(p -> Map.entry(r.matchId(), p)))
                              .collectMap(Map.Entry::getKey, Map.Entry::getValue);
                        }
                        return placeDistinct(
                            requests, at, attempt + 1, (startChannel + 1) % channels);
                      });
            });
  }

  /** The outcome of every match that was decided before (one query for all). */
  private Mono<Map<String, Outcome>> existingAll(List<String> matchIds) {
    return store
        .readStreamHeads(matchIds.stream().map(RoomAllocator::stream).toList(), 2)
        .collectMultimap(StoredEvent::aggregateId)
        .map(
            byStream -> {
              Map<String, Outcome> outcomes = new HashMap<>();
              byStream.forEach(
                  (stream, events) ->
                      outcome(List.copyOf(events))
                          .ifPresent(o -> outcomes.put(stream.substring("match-".length()), o)));
              return outcomes;
            });
  }

  /** A match stream's outcome from its first events; empty if nothing was decided yet. */
  static Optional<Outcome> outcome(List<StoredEvent> events) {
    if (events.isEmpty()) {
      return Optional.empty();
    }
    StoredEvent first = events.get(0);
    if (first.type().equals(CANCELLED)) {
      return Optional.of(new Outcome.Refused(parseCancelled(first).getReason()));
    }
    if (!first.type().equals(PLACED)) {
      throw new IllegalStateException("match stream " + first.aggregateId() + " starts oddly");
    }
    Placement placement = placement(parse(first));
    return Optional.of(
        events.stream().anyMatch(e -> e.type().equals(ENDED))
            ? new Outcome.Over(placement)
            : new Outcome.Placed(placement));
  }

  /**
   * Up to {@code needed} free rooms from this instance's copy of the channels; if it holds too few,
   * the channels another instance wrote to are read on first (it may have freed rooms, and a
   * refusal is final).
   */
  private Mono<List<Free>> freeRooms(int needed, int startChannel) {
    return collectFree(needed, startChannel, 0, new ArrayList<>())
        .flatMap(
            free ->
                free.size() >= needed
                    ? Mono.just(free)
                    : caughtUp()
                        .flatMap(
                            changed ->
                                changed
                                    ? collectFree(needed, startChannel, 0, new ArrayList<>())
                                    : Mono.just(free)));
  }

  /**
   * Every channel's stored version in one query; the cached copies behind it are forgotten, to be
   * read on from where they were. Whether any was. Every time a search comes up short, not at most
   * once a second as before: a second search within that second saw the stale copy and refused a
   * match for good while rooms were free.
   */
  private Mono<Boolean> caughtUp() {
    List<String> ids = new ArrayList<>(channels);
    for (int c = 0; c < channels; c++) {
      ids.add(channelStream(c));
    }
    return store
        .versions(ids)
        .map(
            versions -> {
              boolean changed = false;
              for (int c = 0; c < channels; c++) {
                Channel cached = known.get(c);
                long stored = versions.getOrDefault(channelStream(c), 0L);
                if (cached == null ? stored > 0 : cached.version() < stored) {
                  if (cached != null) {
                    forget(c, cached);
                  }
                  changed = true;
                }
              }
              return changed;
            });
  }

  /**
   * Each match's outcome, for the matches decided so far (one query): whether it has a room, was
   * refused, or its game is over.
   */
  public Mono<Map<String, Outcome>> outcomes(List<String> matchIds) {
    return matchIds.isEmpty() ? Mono.just(Map.of()) : existingAll(matchIds);
  }

  /** Up to {@code needed} free rooms, searching channels from {@code channel} on. */
  private Mono<List<Free>> collectFree(int needed, int channel, int searched, List<Free> acc) {
    if (acc.size() >= needed || searched >= channels) {
      return Mono.just(acc);
    }
    return channel(channel)
        .flatMap(
            state -> {
              int room = state.used().nextClearBit(channel == 0 ? 1 : 0);
              while (room < roomsPerChannel && acc.size() < needed) {
                acc.add(new Free(channel, room, state));
                room = state.used().nextClearBit(room + 1);
              }
              return collectFree(needed, (channel + 1) % channels, searched + 1, acc);
            });
  }

  /**
   * One transaction: every used channel's RoomTaken events, every placed match's MatchPlaced and
   * every refused match's MatchCancelled.
   */
  private Mono<Map<String, Outcome>> appendBatch(List<Request> fresh, List<Free> free, Instant at) {
    Map<String, Outcome> placed = new HashMap<>();
    Map<Integer, List<EventData>> taken = new LinkedHashMap<>();
    Map<Integer, Free> channelOf = new HashMap<>();
    List<AppendRequest> appends = new ArrayList<>();
    for (int i = 0; i < fresh.size(); i++) {
      Request r = fresh.get(i);
      if (i >= free.size()) {
        // every room taken: refused for good, so a redelivery cannot place it after its players
        // went back to the queue
        appends.add(cancellation(r.matchId(), r.queue(), NO_ROOM, at));
        placed.put(r.matchId(), new Outcome.Refused(NO_ROOM));
        continue;
      }
      Free f = free.get(i);
      MatchPlaced p = placed(r, f.channel(), f.room(), at);
      taken.computeIfAbsent(f.channel(), c -> new ArrayList<>()).add(taken(f.room(), r.matchId()));
      channelOf.putIfAbsent(f.channel(), f);
      appends.add(placement(p, at));
      placed.put(r.matchId(), new Outcome.Placed(placement(p)));
    }
    taken.forEach(
        (channel, events) ->
            appends.add(
                new AppendRequest(
                    CHANNEL_TYPE,
                    channelStream(channel),
                    channelOf.get(channel).state().version(),
                    events,
                    at)));
    return store
        .appendAtomically(appends)
        .map(
            ok -> {
              taken.forEach(
                  (channel, events) -> {
                    Channel state = channelOf.get(channel).state();
                    BitSet used = (BitSet) state.used().clone();
                    free.stream()
                        .limit(fresh.size())
                        .filter(f -> f.channel() == channel)
                        .forEach(f -> used.set(f.room()));
                    remember(channel, new Channel(state.version() + events.size(), used));
                  });
              return placed;
            })
        .doOnError(
            ConcurrencyConflict.class,
            c -> channelOf.forEach((channel, f) -> forget(channel, f.state())));
  }

  /** Keeps whichever copy is newer: a reload may already be past this one. */
  private void remember(int channel, Channel after) {
    known.merge(channel, after, (cur, mine) -> cur.version() >= mine.version() ? cur : mine);
    snapshots.reached(channel, after.version(), after.used());
  }

  private int firstChannel(String matchId) {
    return Math.floorMod(matchId.hashCode(), channels);
  }

  /** The match's outcome if it was decided; empty if not. */
  private Mono<Outcome> existing(String matchId) {
    return store
        .readStream(stream(matchId))
        .collectList()
        .flatMap(events -> Mono.justOrEmpty(outcome(events)));
  }

  private Mono<Outcome> allocate(Request r, Instant at, int conflicts, int startChannel) {
    String matchId = r.matchId();
    return findFree(startChannel, 0)
        .switchIfEmpty(
            Mono.defer(
                () -> {
                  // Every room looks taken: this instance's copy may be old (another instance
                  // freed rooms), and a refusal is final. Read the channels again first.
                  return caughtUp()
                      .flatMap(changed -> changed ? findFree(startChannel, 0) : Mono.empty());
                }))
        .flatMap(
            free -> {
              int channel = free.channel();
              int room = free.room();
              // The version the room was found free at, never the cache's current one: another
              // placement on this instance may have taken the same room meanwhile.
              Channel state = free.state();
              MatchPlaced placed = placed(r, channel, room, at);
              List<AppendRequest> appends =
                  List.of(
                      new AppendRequest(
                          CHANNEL_TYPE,
                          channelStream(channel),
                          state.version(),
                          List.of(taken(room, matchId)),
                          at),
                      placement(placed, at));
              return store
                  .appendAtomically(appends)
                  .map(
                      ok -> {
                        BitSet used = (BitSet) state.used().clone();
                        used.set(room);
                        remember(channel, new Channel(state.version() + 1, used));
                        return (Outcome) new Outcome.Placed(placement(placed));
                      })
                  .onErrorResume(
                      ConcurrencyConflict.class,
                      c -> {
                        if (c.aggregateId().equals(stream(matchId))) {
                          return existing(matchId); // decided meanwhile
                        }
                        // Another placement took rooms: reload (unless a newer copy is cached),
                        // retry.
                        forget(channel, state);
                        if (conflicts >= MAX_CONFLICTS) {
                          return Mono.error(c);
                        }
                        return allocate(r, at, conflicts + 1, channel);
                      });
            })
        .switchIfEmpty(
            Mono.defer(
                () ->
                    store
                        .appendAtomically(List.of(cancellation(matchId, r.queue(), NO_ROOM, at)))
                        .<Outcome>thenReturn(new Outcome.Refused(NO_ROOM))
                        .onErrorResume(ConcurrencyConflict.class, c -> existing(matchId))));
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

  /**
   * The cached copy of a channel is out of date (another instance wrote to it): the next use reads
   * only what was written after it, not the channel's whole history (which grows by two events per
   * game played in it).
   */
  private void forget(int channel, Channel state) {
    if (known.remove(channel, state)) {
      behind.merge(channel, state, (cur, mine) -> cur.version() >= mine.version() ? cur : mine);
    }
  }

  private Mono<Channel> channel(int channel) {
    Channel cached = known.get(channel);
    if (cached != null) {
      return Mono.just(cached);
    }
    Channel from = behind.remove(channel);
    if (from == null) {
      return whole(channel);
    }
    return channel(channel, new Channel(from.version(), (BitSet) from.used().clone()));
  }

  /** The channel from its newest snapshot and the events after it (or all of them, if none). */
  private Mono<Channel> whole(int channel) {
    return snapshots
        .load(channel)
        .map(
            loaded -> {
              Channel from =
                  loaded
                      .snapshot()
                      .map(s -> new Channel(s.version(), ChannelSnapshots.rooms(s)))
                      .orElseGet(() -> new Channel(0, new BitSet(roomsPerChannel)));
              List<StoredEvent> events = loaded.events();
              if (!events.isEmpty() && events.get(0).seq() != from.version() + 1) {
                throw new IllegalStateException(
                    "channel "
                        + channel
                        + " goes on at "
                        + events.get(0).seq()
                        + " after version "
                        + from.version()
                        + ": a broken journal");
              }
              return replay(channel, from, events);
            })
        .doOnNext(state -> remember(channel, state));
  }

  /** The channel read on from {@code from} (a private copy, updated in place). */
  private Mono<Channel> channel(int channel, Channel from) {
    return store
        .readStream(channelStream(channel), from.version())
        .collectList()
        .flatMap(
            events -> {
              if (!events.isEmpty() && events.get(0).seq() != from.version() + 1) {
                // Not contiguous with our copy (the events after it were cut once a newer
                // snapshot was kept): from the newest snapshot.
                return whole(channel);
              }
              return Mono.just(replay(channel, from, events));
            })
        .doOnNext(state -> remember(channel, state));
  }

  private Channel replay(int channel, Channel from, List<StoredEvent> events) {
    Channel state = from;
    for (StoredEvent e : events) {
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
      state = new Channel(e.seq(), used);
    }
    return state;
  }

  /**
   * Ends a placed match's game: frees its room (the channel's {@code RoomFreed} at the channel's
   * expected version) and records the end (the match's {@code MatchEnded}, after its placement) in
   * ONE transaction, so the room is free exactly when the game is over. Idempotent: a match ended
   * before answers the same again, with the result recorded then (the caller compares). Empty if
   * the match was never placed.
   */
  public Mono<Optional<Ended>> end(String matchId, Instant at) {
    return end(matchId, at, Result.RESULT_NONE);
  }

  /** The same, recording how the game ended. */
  public Mono<Optional<Ended>> end(String matchId, Instant at, Result result) {
    return end(matchId, at, result, Map.of());
  }

  /** The same, with each player's score as the game server reported it. */
  public Mono<Optional<Ended>> end(
      String matchId, Instant at, Result result, Map<String, Long> scores) {
    return end(matchId, at, result, scores, 0);
  }

  /**
   * The same, from the match's status just read (one read of its stream fewer): a status that is
   * out of date by the time the end is written is found stale there, and the end is read again.
   */
  public Mono<Optional<Ended>> end(
      Status known, Instant at, Result result, Map<String, Long> scores) {
    return end(known, at, result, scores, 0);
  }

  private Mono<Optional<Ended>> end(
      String matchId, Instant at, Result result, Map<String, Long> scores, int conflicts) {
    return status(matchId)
        .flatMap(
            found ->
                found.isEmpty()
                    ? Mono.just(Optional.<Ended>empty())
                    : end(found.get(), at, result, scores, conflicts));
  }

  private Mono<Optional<Ended>> end(
      Status match, Instant at, Result result, Map<String, Long> scores, int conflicts) {
    String matchId = match.matchId();
    Optional<MatchEnded> before = match.end();
    Ended ended =
        new Ended(
            matchId,
            match.queue(),
            match.channel(),
            match.room(),
            match.players(),
            before.map(MatchEnded::getResult).orElse(result),
            before.map(MatchEnded::getScoresMap).orElse(scores),
            false);
    if (before.isPresent()) {
      return Mono.just(Optional.of(ended));
    }
    return ends.submit(match.channel(), new Ending(ended, match.version(), at))
        .thenReturn(Optional.of(ended.writtenNow()))
        .onErrorResume(
            ConcurrencyConflict.class,
            c -> {
              // The channel moved on (another instance placed or ended a game in it), or the
              // match was ended meanwhile, or the status was read before (the next read finds
              // it): try again, after a pause that grows, so instances contending for one
              // channel spread out instead of colliding again.
              if (conflicts >= MAX_CONFLICTS) {
                // Nothing was written: the caller may simply end it again (503).
                return Mono.error(
                    new Overloaded("match-end", "match " + matchId + " is busy ending; try again"));
              }
              long pause =
                  java.util.concurrent.ThreadLocalRandom.current()
                      .nextLong(1, 2L << Math.min(conflicts, 7));
              return Mono.delay(java.time.Duration.ofMillis(pause))
                  .then(end(matchId, at, result, scores, conflicts + 1));
            });
  }

  /** A game to end: its room goes back to the channel, and its stream records the end. */
  private record Ending(Ended ended, long matchVersion, Instant at) {}

  /**
   * Ends that arrive while another end in the same channel is being written go together: ONE
   * transaction frees all their rooms on the channel (at its expected version) and appends each
   * match's {@code MatchEnded}. Without this, concurrent ends in one channel (a placement batch
   * fills one channel, so its games end together) collide on the channel's version and retry each
   * other into the ground.
   */
  private Mono<Map<Object, Throwable>> endBatch(int channel, List<Ending> batch) {
    // An end read before another end of the same match was written (a retry racing its original,
    // or the timeout sweep) is stale: it alone is answered with a conflict (its next read finds
    // the end), and the rest of the batch goes on without it.
    return store
        .versions(batch.stream().map(e -> stream(e.ended().matchId())).toList())
        .flatMap(
            versions -> {
              Map<Object, Throwable> stale = new HashMap<>();
              List<Ending> fresh = new ArrayList<>();
              for (Ending e : batch) {
                String matchStream = stream(e.ended().matchId());
                if (versions.getOrDefault(matchStream, 0L) == e.matchVersion()) {
                  fresh.add(e);
                } else {
                  stale.put(
                      e.ended().matchId(), new ConcurrencyConflict(matchStream, e.matchVersion()));
                }
              }
              if (fresh.isEmpty()) {
                return Mono.just(stale);
              }
              return channel(channel)
                  .flatMap(state -> endAll(channel, state, fresh))
                  .thenReturn(stale);
            });
  }

  private Mono<Void> endAll(int channel, Channel state, List<Ending> batch) {
    Instant at = batch.get(batch.size() - 1).at();
    List<AppendRequest> appends = new ArrayList<>();
    appends.add(
        new AppendRequest(
            CHANNEL_TYPE,
            channelStream(channel),
            state.version(),
            batch.stream().map(e -> freed(e.ended().room(), e.ended().matchId())).toList(),
            at));
    for (Ending e : batch) {
      appends.add(
          new AppendRequest(
              MATCH_TYPE,
              stream(e.ended().matchId()),
              e.matchVersion(),
              List.of(new EventData(ENDED, message(e.ended(), e.at()).toByteArray())),
              e.at()));
    }
    return store
        .appendAtomically(appends)
        .doOnSuccess(
            ok -> {
              BitSet used = (BitSet) state.used().clone();
              batch.forEach(e -> used.clear(e.ended().room()));
              remember(channel, new Channel(state.version() + batch.size(), used));
            })
        .doOnError(
            ConcurrencyConflict.class,
            c -> {
              if (c.aggregateId().equals(channelStream(channel))) {
                forget(channel, state); // the channel moved on: catch it up
              }
            })
        .then();
  }

  /**
   * A placed match as its stream tells it: its room, players and lineup (empty for placements
   * recorded before lineups were), when it was placed, its end if it ended, and the stream's
   * version when it was read.
   */
  public record Status(
      String matchId,
      String queue,
      int channel,
      int room,
      List<String> players,
      List<MatchedPlayer> lineup,
      Instant placedAt,
      Optional<MatchEnded> end,
      long version) {
    public boolean ended() {
      return end.isPresent();
    }
  }

  /**
   * The idempotency key a match's result is rated under: stored with every player's rating change
   * (one transaction for all of them), so it also tells whether that transaction is stored.
   */
  public static String resultKey(String matchId) {
    return "result:" + matchId;
  }

  /** Whether the result of this match was rated for this player (its key is in their stream). */
  Mono<Boolean> rated(String matchId, String player) {
    return store.findKey(player, resultKey(matchId)).hasElement();
  }

  /** The match's placement and whether it ended; empty if it was never placed. */
  public Mono<Optional<Status>> status(String matchId) {
    return store
        .readStream(stream(matchId))
        .collectList()
        .map(
            events ->
                events.stream()
                    .filter(e -> e.type().equals(PLACED))
                    .findFirst()
                    .map(MatchJournal::parse)
                    .map(
                        p ->
                            new Status(
                                matchId,
                                p.getQueue(),
                                p.getChannel(),
                                p.getRoom(),
                                List.copyOf(p.getPlayerIdsList()),
                                List.copyOf(p.getPlayersList()),
                                Instant.ofEpochMilli(p.getPlacedAtEpochMs()),
                                events.stream()
                                    .filter(e -> e.type().equals(ENDED))
                                    .findFirst()
                                    .map(MatchJournal::parseEnded),
                                events.get(events.size() - 1).seq())));
  }

  static String stream(String matchId) {
    return "match-" + matchId;
  }

  static String channelStream(int channel) {
    return "channel-" + channel;
  }
}
