package dev.citadel.gamestate.storage;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.citadel.eventstore.EventData;
import dev.citadel.gamestate.player.Outcome;
import dev.citadel.gamestate.player.PlayerEvent;
import dev.citadel.gamestate.player.PlayerEvent.ExperienceGained;
import dev.citadel.gamestate.player.PlayerEvent.GoldEarned;
import dev.citadel.gamestate.player.PlayerEvent.GoldSpent;
import dev.citadel.gamestate.player.PlayerEvent.ItemAdded;
import dev.citadel.gamestate.player.PlayerEvent.ItemRemoved;
import dev.citadel.gamestate.player.PlayerEvent.LeveledUp;
import dev.citadel.gamestate.player.PlayerEvent.NicknameSet;
import dev.citadel.gamestate.player.PlayerEvent.PlayerCreated;
import dev.citadel.gamestate.player.PlayerEvent.RoomJoined;
import dev.citadel.gamestate.player.PlayerEvent.RoomLeft;
import dev.citadel.gamestate.player.PlayerState;
import dev.citadel.protocol.player.v1.PlayerSnapshot;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * Player events and snapshots to and from protobuf. The journal's type column holds the protobuf
 * full name, so old bytes always decode with the message they were written with.
 *
 * <p>One unit on purpose (over 300 lines): every player event's and the snapshot's wire mapping in
 * one place, read side by side with {@code player.proto}.
 */
public final class PlayerCodec {
  public static final String SNAPSHOT_TYPE = PlayerSnapshot.getDescriptor().getFullName();

  private PlayerCodec() {}

  public static EventData encode(PlayerEvent event) {
    Message message = toProto(event);
    return new EventData(message.getDescriptorForType().getFullName(), message.toByteArray());
  }

  static Message toProto(PlayerEvent event) {
    if (event instanceof PlayerCreated e) {
      return dev.citadel.protocol.player.v1.PlayerCreated.newBuilder()
          .setPlayerId(e.playerId())
          .setNickname(e.nickname())
          .setCreatedAtEpochMs(e.at().toEpochMilli())
          .build();
    }
    if (event instanceof ExperienceGained e) {
      return dev.citadel.protocol.player.v1.ExperienceGained.newBuilder()
          .setAmount(e.amount())
          .setTotal(e.total())
          .build();
    }
    if (event instanceof LeveledUp e) {
      return dev.citadel.protocol.player.v1.LeveledUp.newBuilder().setLevel(e.level()).build();
    }
    if (event instanceof GoldEarned e) {
      return dev.citadel.protocol.player.v1.GoldEarned.newBuilder()
          .setAmount(e.amount())
          .setReason(e.reason())
          .build();
    }
    if (event instanceof GoldSpent e) {
      return dev.citadel.protocol.player.v1.GoldSpent.newBuilder()
          .setAmount(e.amount())
          .setReason(e.reason())
          .build();
    }
    if (event instanceof ItemAdded e) {
      return dev.citadel.protocol.player.v1.ItemAdded.newBuilder()
          .setItemId(e.itemId())
          .setQuantity(e.quantity())
          .build();
    }
    if (event instanceof ItemRemoved e) {
      return dev.citadel.protocol.player.v1.ItemRemoved.newBuilder()
          .setItemId(e.itemId())
          .setQuantity(e.quantity())
          .build();
    }
    if (event instanceof NicknameSet e) {
      return dev.citadel.protocol.player.v1.NicknameSet.newBuilder()
          .setNickname(e.nickname())
          .setAccountSeq(e.accountSeq())
          .build();
    }
    if (event instanceof RoomJoined e) {
      return dev.citadel.protocol.player.v1.RoomJoined.newBuilder()
          .setMatchId(e.matchId())
          .setChannel(e.channel())
          .setRoom(e.room())
          .build();
    }
    if (event instanceof RoomLeft e) {
      return dev.citadel.protocol.player.v1.RoomLeft.newBuilder().setMatchId(e.matchId()).build();
    }
    if (event instanceof PlayerEvent.FriendshipChanged e) {
      return dev.citadel.protocol.player.v1.FriendshipChanged.newBuilder()
          .setOtherPlayerId(e.other())
          .setRelation(wire(e.relation()))
          .build();
    }
    if (event instanceof PlayerEvent.MatchRated e) {
      // A settled result is its own type: an older instance refuses it instead of misreading it.
      return e.settled().isPresent()
          ? dev.citadel.protocol.player.v1.MatchSettled.newBuilder().setRated(matchRated(e)).build()
          : matchRated(e);
    }
    throw new IllegalArgumentException("unknown event " + event);
  }

  private static dev.citadel.protocol.player.v1.MatchRated matchRated(PlayerEvent.MatchRated e) {
    var b =
        dev.citadel.protocol.player.v1.MatchRated.newBuilder()
            .setMatchId(e.matchId())
            .setQueue(e.queue())
            .setOutcome(outcome(e.outcome()))
            .setRatingBefore(e.before())
            .setRatingAfter(e.after())
            .setGames(e.games())
            .setGold(e.gold())
            .setExperience(e.experience());
    e.settled()
        .ifPresent(
            settled ->
                b.setSettled(
                    dev.citadel.protocol.player.v1.Settlement.newBuilder()
                        .setExperienceTotal(settled.experienceTotal())
                        .setLevel(settled.level())
                        .setLeftRoom(settled.leftRoom())));
    return b.build();
  }

  private static PlayerEvent.MatchRated matchRated(dev.citadel.protocol.player.v1.MatchRated m) {
    return new PlayerEvent.MatchRated(
        m.getMatchId(),
        m.getQueue(),
        outcome(m.getOutcome()),
        m.getRatingBefore(),
        m.getRatingAfter(),
        m.getGames(),
        m.getGold(),
        m.getExperience(),
        m.hasSettled()
            ? Optional.of(
                new PlayerEvent.Settled(
                    m.getSettled().getExperienceTotal(),
                    m.getSettled().getLevel(),
                    m.getSettled().getLeftRoom()))
            : Optional.empty());
  }

  private static PlayerEvent settled(byte[] bytes) throws InvalidProtocolBufferException {
    var m = dev.citadel.protocol.player.v1.MatchSettled.parseFrom(bytes);
    if (!m.hasRated() || !m.getRated().hasSettled()) {
      throw new IllegalArgumentException("a MatchSettled without its settlement");
    }
    return matchRated(m.getRated());
  }

  /** Explicit wire mapping: the enum's order is not the wire format. */
  private static dev.citadel.protocol.player.v1.Outcome outcome(Outcome o) {
    return switch (o) {
      case WIN -> dev.citadel.protocol.player.v1.Outcome.OUTCOME_WIN;
      case LOSS -> dev.citadel.protocol.player.v1.Outcome.OUTCOME_LOSS;
      case DRAW -> dev.citadel.protocol.player.v1.Outcome.OUTCOME_DRAW;
    };
  }

  private static Outcome outcome(dev.citadel.protocol.player.v1.Outcome o) {
    return switch (o) {
      case OUTCOME_WIN -> Outcome.WIN;
      case OUTCOME_LOSS -> Outcome.LOSS;
      case OUTCOME_DRAW -> Outcome.DRAW;
      default -> throw new IllegalArgumentException("unknown outcome " + o);
    };
  }

  public static PlayerEvent decode(String type, byte[] bytes) {
    try {
      return switch (type) {
        case "citadel.player.v1.PlayerCreated" -> {
          var m = dev.citadel.protocol.player.v1.PlayerCreated.parseFrom(bytes);
          yield new PlayerCreated(
              m.getPlayerId(), m.getNickname(), Instant.ofEpochMilli(m.getCreatedAtEpochMs()));
        }
        case "citadel.player.v1.ExperienceGained" -> {
          var m = dev.citadel.protocol.player.v1.ExperienceGained.parseFrom(bytes);
          yield new ExperienceGained(m.getAmount(), m.getTotal());
        }
        case "citadel.player.v1.LeveledUp" ->
            new LeveledUp(dev.citadel.protocol.player.v1.LeveledUp.parseFrom(bytes).getLevel());
        case "citadel.player.v1.GoldEarned" -> {
          var m = dev.citadel.protocol.player.v1.GoldEarned.parseFrom(bytes);
          yield new GoldEarned(m.getAmount(), m.getReason());
        }
        case "citadel.player.v1.GoldSpent" -> {
          var m = dev.citadel.protocol.player.v1.GoldSpent.parseFrom(bytes);
          yield new GoldSpent(m.getAmount(), m.getReason());
        }
        case "citadel.player.v1.ItemAdded" -> {
          var m = dev.citadel.protocol.player.v1.ItemAdded.parseFrom(bytes);
          yield new ItemAdded(m.getItemId(), m.getQuantity());
        }
        case "citadel.player.v1.ItemRemoved" -> {
          var m = dev.citadel.protocol.player.v1.ItemRemoved.parseFrom(bytes);
          yield new ItemRemoved(m.getItemId(), m.getQuantity());
        }
        case "citadel.player.v1.NicknameSet" -> {
          var m = dev.citadel.protocol.player.v1.NicknameSet.parseFrom(bytes);
          yield new NicknameSet(m.getNickname(), m.getAccountSeq());
        }
        case "citadel.player.v1.RoomJoined" -> {
          var m = dev.citadel.protocol.player.v1.RoomJoined.parseFrom(bytes);
          yield new RoomJoined(m.getMatchId(), m.getChannel(), m.getRoom());
        }
        case "citadel.player.v1.RoomLeft" ->
            new RoomLeft(dev.citadel.protocol.player.v1.RoomLeft.parseFrom(bytes).getMatchId());
        case "citadel.player.v1.FriendshipChanged" -> {
          var m = dev.citadel.protocol.player.v1.FriendshipChanged.parseFrom(bytes);
          yield new PlayerEvent.FriendshipChanged(
              m.getOtherPlayerId(), relation(m.getRelationValue()));
        }
        case "citadel.player.v1.MatchRated" ->
            matchRated(dev.citadel.protocol.player.v1.MatchRated.parseFrom(bytes));
        case "citadel.player.v1.MatchSettled" -> settled(bytes);
        default -> throw new IllegalArgumentException("unknown player event type " + type);
      };
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("corrupt " + type + " event", e);
    }
  }

  public static byte[] snapshot(PlayerState s) {
    PlayerSnapshot.Builder b =
        PlayerSnapshot.newBuilder()
            .setPlayerId(s.id())
            .setNickname(s.nickname())
            .setNicknameAccountSeq(s.nicknameSeq())
            .setLevel(s.level())
            .setExperience(s.experience())
            .setGold(s.gold())
            .putAllInventory(s.inventory())
            .setCreatedAtEpochMs(s.createdAt().toEpochMilli());
    s.relations().forEach((other, r) -> b.putRelations(other, wire(r).getNumber()));
    s.ratings()
        .forEach(
            (queue, r) ->
                b.putRatings(
                    queue,
                    dev.citadel.protocol.player.v1.QueueRating.newBuilder()
                        .setRating(r.rating())
                        .setGames(r.games())
                        .build()));
    s.recentMatches().forEach(m -> b.addRecentMatches(matchRated(m)));
    b.addAllLeftMatches(s.leftMatches());
    s.room()
        .ifPresent(
            seat -> b.setMatchId(seat.matchId()).setChannel(seat.channel()).setRoom(seat.room()));
    return b.build().toByteArray();
  }

  public static PlayerState restore(byte[] bytes) {
    try {
      PlayerSnapshot m = PlayerSnapshot.parseFrom(bytes);
      Optional<PlayerState.Seat> room =
          m.getMatchId().isEmpty()
              ? Optional.empty()
              : Optional.of(new PlayerState.Seat(m.getMatchId(), m.getChannel(), m.getRoom()));
      return new PlayerState(
          m.getPlayerId(),
          true,
          m.getNickname(),
          m.getNicknameAccountSeq(),
          m.getLevel(),
          m.getExperience(),
          m.getGold(),
          m.getInventoryMap(),
          room,
          Instant.ofEpochMilli(m.getCreatedAtEpochMs()),
          relations(m.getRelationsMap()),
          ratings(m.getRatingsMap()),
          m.getRecentMatchesList().stream().map(PlayerCodec::matchRated).toList(),
          m.getLeftMatchesList());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("corrupt player snapshot", e);
    }
  }

  /**
   * The stored form of a relation: the proto enum's number, named case by case (never the Java
   * enum's order, which a reordering would silently change for every stored event).
   */
  static dev.citadel.protocol.player.v1.Relation wire(PlayerState.Relation r) {
    return switch (r) {
      case NONE -> dev.citadel.protocol.player.v1.Relation.RELATION_NONE;
      case REQUESTED -> dev.citadel.protocol.player.v1.Relation.RELATION_REQUESTED;
      case ASKED -> dev.citadel.protocol.player.v1.Relation.RELATION_ASKED;
      case FRIENDS -> dev.citadel.protocol.player.v1.Relation.RELATION_FRIENDS;
    };
  }

  static PlayerState.Relation relation(int number) {
    var wire = dev.citadel.protocol.player.v1.Relation.forNumber(number);
    if (wire == null) {
      throw new IllegalArgumentException("unknown relation " + number);
    }
    return switch (wire) {
      case RELATION_NONE -> PlayerState.Relation.NONE;
      case RELATION_REQUESTED -> PlayerState.Relation.REQUESTED;
      case RELATION_ASKED -> PlayerState.Relation.ASKED;
      case RELATION_FRIENDS -> PlayerState.Relation.FRIENDS;
      case UNRECOGNIZED -> throw new IllegalArgumentException("unknown relation " + number);
    };
  }

  private static Map<String, PlayerState.Rating> ratings(
      Map<String, dev.citadel.protocol.player.v1.QueueRating> numbers) {
    Map<String, PlayerState.Rating> ratings = new java.util.HashMap<>();
    numbers.forEach((q, r) -> ratings.put(q, new PlayerState.Rating(r.getRating(), r.getGames())));
    return ratings;
  }

  private static Map<String, PlayerState.Relation> relations(Map<String, Integer> numbers) {
    Map<String, PlayerState.Relation> relations = new java.util.HashMap<>();
    numbers.forEach((other, n) -> relations.put(other, relation(n)));
    return relations;
  }
}
