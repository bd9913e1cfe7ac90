package dev.citadel.gamestate.player;

import dev.citadel.gamestate.player.PlayerCommand.AddItem;
import dev.citadel.gamestate.player.PlayerCommand.CreatePlayer;
import dev.citadel.gamestate.player.PlayerCommand.EarnGold;
import dev.citadel.gamestate.player.PlayerCommand.GainExperience;
import dev.citadel.gamestate.player.PlayerCommand.JoinRoom;
import dev.citadel.gamestate.player.PlayerCommand.LeaveRoom;
import dev.citadel.gamestate.player.PlayerCommand.RemoveItem;
import dev.citadel.gamestate.player.PlayerCommand.SetNickname;
import dev.citadel.gamestate.player.PlayerCommand.SpendGold;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The player's rules as two pure functions: {@link #decide} (may this command happen, and what
 * events does it produce) and {@link #evolve} (apply one event). No I/O, no clock.
 *
 * <p>One unit on purpose (over 300 lines): every command and event of one aggregate, decided and
 * applied in one place, so a reader sees all the rules that may touch a field together. Rules that
 * grew their own vocabulary already live beside it ({@link MatchRating}).
 */
public final class Player {
  public static final long MAX_AMOUNT = 1_000_000_000L;
  public static final int MAX_QUANTITY = 10_000;

  /** 3-16 letters, digits or underscores; the same rule as account nicknames. */
  public static final Pattern NICKNAME = Pattern.compile("[A-Za-z0-9_]{3,16}");

  public static final Pattern ITEM_ID = Pattern.compile("[a-z0-9][a-z0-9_-]{0,63}");

  /** A match id as match-service makes them (a queue, a UUIDv7 and a number). */
  public static final Pattern MATCH_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  /** A queue's name, as match-service's configuration allows it. */
  public static final Pattern QUEUE = Pattern.compile("[a-z0-9_]{1,20}");

  public static final int MAX_REASON = 64;

  private Player() {}

  /** Level for a total experience: level n needs 100 * (n-1)^2 experience. */
  public static int levelFor(long experience) {
    return 1 + (int) Math.floor(Math.sqrt(experience / 100.0));
  }

  public static List<PlayerEvent> decide(PlayerCommand command, PlayerState state) {
    if (command instanceof CreatePlayer create) {
      if (state.exists()) {
        throw PlayerRejected.conflict("player " + state.id() + " already exists");
      }
      requireNickname(create.nickname());
      // In milliseconds, as the journal keeps it: the copy that decided this must equal every
      // copy that later loads the player (another instance's view said another creation time).
      return List.of(
          new PlayerCreated(
              state.id(),
              create.nickname(),
              create.at().truncatedTo(java.time.temporal.ChronoUnit.MILLIS)));
    }
    if (!state.exists()) {
      throw new PlayerRejected(PlayerRejected.Kind.NOT_FOUND, "no player " + state.id());
    }
    if (command instanceof GainExperience c) {
      return gainExperience(c, state);
    }
    if (command instanceof EarnGold c) {
      requireAmount(c.amount());
      if (state.gold() > Long.MAX_VALUE - c.amount()) {
        throw PlayerRejected.conflict("gold would overflow");
      }
      return List.of(new GoldEarned(c.amount(), reason(c.reason())));
    }
    if (command instanceof SpendGold c) {
      requireAmount(c.amount());
      if (c.amount() > state.gold()) {
        throw PlayerRejected.conflict(
            "cannot spend " + c.amount() + " gold: only " + state.gold() + " owned");
      }
      return List.of(new GoldSpent(c.amount(), reason(c.reason())));
    }
    if (command instanceof AddItem c) {
      requireItem(c.itemId(), c.quantity());
      if ((long) state.quantityOf(c.itemId()) + c.quantity() > MAX_QUANTITY) {
        throw PlayerRejected.conflict("at most " + MAX_QUANTITY + " of one item");
      }
      return List.of(new ItemAdded(c.itemId(), c.quantity()));
    }
    if (command instanceof RemoveItem c) {
      requireItem(c.itemId(), c.quantity());
      if (c.quantity() > state.quantityOf(c.itemId())) {
        throw PlayerRejected.conflict(
            "cannot remove "
                + c.quantity()
                + " "
                + c.itemId()
                + ": only "
                + state.quantityOf(c.itemId())
                + " owned");
      }
      return List.of(new ItemRemoved(c.itemId(), c.quantity()));
    }
    if (command instanceof SetNickname c) {
      requireNickname(c.nickname());
      // Ordered by the account's stream, not by arrival: an older rename delivered again (or
      // replayed once its key has expired) changes nothing, and a newer one is recorded even when
      // it names the nickname shown (A to B, then back to A, arriving first), so that the older
      // one cannot follow it.
      return c.accountSeq() <= state.nicknameSeq()
          ? List.of()
          : List.of(new NicknameSet(c.nickname(), c.accountSeq()));
    }
    if (command instanceof JoinRoom c) {
      return joinRoom(c, state);
    }
    if (command instanceof PlayerCommand.Grant c) {
      return grant(c, state);
    }
    if (command instanceof PlayerCommand.Purchase c) {
      return purchase(c, state);
    }
    if (command instanceof PlayerCommand.Relate c) {
      return relate(c, state);
    }
    if (command instanceof PlayerCommand.RateMatch c) {
      return MatchRating.decide(c, state);
    }
    if (command instanceof LeaveRoom c) {
      boolean seated = state.room().isPresent() && state.room().get().matchId().equals(c.matchId());
      if (!seated && state.hasLeft(c.matchId())) {
        return List.of(); // already left: leaving is idempotent
      }
      // Recorded even when not seated (yet): a seat in this match that was decided before and
      // lands after this then conflicts on the version, and decided again it is refused. Without
      // it, a game that ended before its seats landed kept its players in the room for good.
      return List.of(new RoomLeft(c.matchId()));
    }
    throw new IllegalArgumentException("unknown command " + command);
  }

  private static List<PlayerEvent> gainExperience(GainExperience c, PlayerState state) {
    requireAmount(c.amount());
    long total = state.experience() + c.amount();
    List<PlayerEvent> events = new ArrayList<>();
    events.add(new ExperienceGained(c.amount(), total));
    int newLevel = levelFor(total);
    // One event for the level reached, however many were crossed: a grant of a billion
    // experience wrote some 3,000 events, one per level (journals before 2026-12-07 hold those;
    // replayed, they reach the same level).
    if (newLevel > state.level()) {
      events.add(new LeveledUp(newLevel));
    }
    return events;
  }

  static final int MAX_GRANTED_ITEMS = 20;

  private static List<PlayerEvent> grant(PlayerCommand.Grant c, PlayerState state) {
    if (c.gold() < 0
        || c.gold() > MAX_AMOUNT
        || c.experience() < 0
        || c.experience() > MAX_AMOUNT) {
      throw PlayerRejected.invalid("gold and experience must be between 0 and " + MAX_AMOUNT);
    }
    if (c.items().size() > MAX_GRANTED_ITEMS) {
      throw PlayerRejected.invalid("at most " + MAX_GRANTED_ITEMS + " items in one grant");
    }
    if (c.gold() == 0 && c.experience() == 0 && c.items().isEmpty()) {
      throw PlayerRejected.invalid("a grant gives gold, experience or items");
    }
    String reason = reason(c.reason());
    List<PlayerEvent> events = new ArrayList<>();
    if (c.gold() > 0) {
      if (state.gold() > Long.MAX_VALUE - c.gold()) {
        throw PlayerRejected.conflict("gold would overflow");
      }
      events.add(new GoldEarned(c.gold(), reason));
    }
    if (c.experience() > 0) {
      events.addAll(gainExperience(new GainExperience(c.experience()), state));
    }
    Map<String, Integer> added = new java.util.LinkedHashMap<>();
    for (PlayerCommand.Items item : c.items()) {
      requireItem(item.itemId(), item.quantity());
      added.merge(item.itemId(), item.quantity(), Integer::sum);
    }
    added.forEach(
        (itemId, quantity) -> {
          if ((long) state.quantityOf(itemId) + quantity > MAX_QUANTITY) {
            throw PlayerRejected.conflict("at most " + MAX_QUANTITY + " of one item");
          }
          events.add(new ItemAdded(itemId, quantity));
        });
    return events;
  }

  private static List<PlayerEvent> purchase(PlayerCommand.Purchase c, PlayerState state) {
    requireItem(c.itemId(), c.quantity());
    if (c.unitPrice() <= 0 || c.unitPrice() > MAX_AMOUNT) {
      throw PlayerRejected.invalid("the price of " + c.itemId() + " is not valid");
    }
    long total;
    try {
      total = Math.multiplyExact(c.unitPrice(), (long) c.quantity());
    } catch (ArithmeticException e) {
      total = Long.MAX_VALUE;
    }
    if (total > MAX_AMOUNT) {
      throw PlayerRejected.invalid("a purchase costs at most " + MAX_AMOUNT + " gold");
    }
    if (total > state.gold()) {
      throw PlayerRejected.conflict(
          "cannot pay "
              + total
              + " gold for "
              + c.quantity()
              + " "
              + c.itemId()
              + ": only "
              + state.gold()
              + " owned");
    }
    if ((long) state.quantityOf(c.itemId()) + c.quantity() > MAX_QUANTITY) {
      throw PlayerRejected.conflict("at most " + MAX_QUANTITY + " of one item");
    }
    return List.of(
        new GoldSpent(total, "purchase " + c.itemId()), new ItemAdded(c.itemId(), c.quantity()));
  }

  private static List<PlayerEvent> joinRoom(JoinRoom c, PlayerState state) {
    if (!MATCH_ID.matcher(c.matchId()).matches() || c.channel() < 0 || c.room() < 0) {
      throw PlayerRejected.invalid("bad room seat " + c);
    }
    if (state.hasLeft(c.matchId())) {
      throw PlayerRejected.conflict("match " + c.matchId() + " is over for this player");
    }
    if (state.room().isPresent()) {
      if (state.room().get().equals(new PlayerState.Seat(c.matchId(), c.channel(), c.room()))) {
        return List.of(); // the same seat again: idempotent
      }
      throw PlayerRejected.conflict("player is already in match " + state.room().get().matchId());
    }
    return List.of(new RoomJoined(c.matchId(), c.channel(), c.room()));
  }

  /** Friends and requests a player sent, at most; and requests from others waiting, at most. */
  static final int MAX_RELATIONS = 500, MAX_WAITING_REQUESTS = 100;

  /** Relations the player chose (friends, requests they sent), not requests others sent them. */
  private static long chosen(PlayerState state) {
    return state.relations().values().stream().filter(r -> r != PlayerState.Relation.ASKED).count();
  }

  private static List<PlayerEvent> relate(PlayerCommand.Relate c, PlayerState state) {
    if (c.other() == null || c.other().isBlank()) {
      throw PlayerRejected.invalid("the other player is required");
    }
    if (c.other().equals(state.id())) {
      throw PlayerRejected.invalid("a player cannot be their own friend");
    }
    PlayerState.Relation now = state.relationTo(c.other());
    PlayerState.Relation next;
    switch (c.action()) {
      case SEND, RECEIVE -> {
        if (now == PlayerState.Relation.FRIENDS) {
          throw PlayerRejected.conflict(state.id() + " and " + c.other() + " are already friends");
        }
        if (now == PlayerState.Relation.REQUESTED) {
          throw PlayerRejected.conflict(
              state.id() + " already asked " + c.other() + " to be friends");
        }
        if (now == PlayerState.Relation.ASKED) {
          throw PlayerRejected.conflict(
              c.other() + " already asked " + state.id() + ": accept that request instead");
        }
        // Others' requests have a bound of their own: counted with the player's own, strangers'
        // requests filled the list and the player could neither ask nor be asked by anyone.
        if (c.action() == PlayerCommand.Relate.Action.SEND && chosen(state) >= MAX_RELATIONS) {
          throw PlayerRejected.conflict("at most " + MAX_RELATIONS + " friends and requests");
        }
        if (c.action() == PlayerCommand.Relate.Action.RECEIVE
            && state.relations().size() - chosen(state) >= MAX_WAITING_REQUESTS) {
          throw PlayerRejected.conflict(
              state.id() + " has " + MAX_WAITING_REQUESTS + " friend requests waiting already");
        }
        next =
            c.action() == PlayerCommand.Relate.Action.SEND
                ? PlayerState.Relation.REQUESTED
                : PlayerState.Relation.ASKED;
      }
      case ACCEPT, DECLINE -> {
        if (now != PlayerState.Relation.ASKED) {
          throw PlayerRejected.conflict("no friend request from " + c.other());
        }
        if (c.action() == PlayerCommand.Relate.Action.ACCEPT && chosen(state) >= MAX_RELATIONS) {
          throw PlayerRejected.conflict("at most " + MAX_RELATIONS + " friends and requests");
        }
        next =
            c.action() == PlayerCommand.Relate.Action.ACCEPT
                ? PlayerState.Relation.FRIENDS
                : PlayerState.Relation.NONE;
      }
      case ACCEPTED, DECLINED -> {
        if (now != PlayerState.Relation.REQUESTED) {
          throw PlayerRejected.conflict("no friend request to " + c.other());
        }
        next =
            c.action() == PlayerCommand.Relate.Action.ACCEPTED
                ? PlayerState.Relation.FRIENDS
                : PlayerState.Relation.NONE;
      }
      case REMOVE -> {
        if (now != PlayerState.Relation.FRIENDS) {
          throw PlayerRejected.conflict(state.id() + " and " + c.other() + " are not friends");
        }
        next = PlayerState.Relation.NONE;
      }
      default -> throw PlayerRejected.invalid("unknown friend action " + c.action());
    }
    return List.of(new PlayerEvent.FriendshipChanged(c.other(), next));
  }

  public static PlayerState evolve(PlayerState s, PlayerEvent event) {
    if (event instanceof PlayerEvent.FriendshipChanged e) {
      Map<String, PlayerState.Relation> relations = new HashMap<>(s.relations());
      if (e.relation() == PlayerState.Relation.NONE) {
        relations.remove(e.other());
      } else {
        relations.put(e.other(), e.relation());
      }
      return s.withRelations(relations);
    }
    if (event instanceof PlayerCreated e) {
      return s.created(e.nickname(), e.at());
    }
    if (event instanceof ExperienceGained e) {
      return s.withExperience(e.total());
    }
    if (event instanceof LeveledUp e) {
      return s.withLevel(e.level());
    }
    if (event instanceof GoldEarned e) {
      return s.withGold(s.gold() + e.amount());
    }
    if (event instanceof GoldSpent e) {
      return s.withGold(s.gold() - e.amount());
    }
    if (event instanceof ItemAdded e) {
      return withItem(s, e.itemId(), s.quantityOf(e.itemId()) + e.quantity());
    }
    if (event instanceof ItemRemoved e) {
      return withItem(s, e.itemId(), s.quantityOf(e.itemId()) - e.quantity());
    }
    if (event instanceof NicknameSet e) {
      return s.withNickname(e.nickname(), Math.max(e.accountSeq(), s.nicknameSeq()));
    }
    if (event instanceof RoomJoined e) {
      return s.withRoom(Optional.of(new PlayerState.Seat(e.matchId(), e.channel(), e.room())));
    }
    if (event instanceof RoomLeft e) {
      return s.leaving(e.matchId());
    }
    if (event instanceof PlayerEvent.MatchRated e) {
      return MatchRating.evolve(s, e);
    }
    throw new IllegalArgumentException("unknown event " + event);
  }

  public static PlayerState replay(PlayerState from, List<PlayerEvent> events) {
    PlayerState state = from;
    for (PlayerEvent e : events) {
      state = evolve(state, e);
    }
    return state;
  }

  private static PlayerState withItem(PlayerState s, String itemId, int quantity) {
    Map<String, Integer> inventory = new HashMap<>(s.inventory());
    if (quantity == 0) {
      inventory.remove(itemId);
    } else {
      inventory.put(itemId, quantity);
    }
    return s.withInventory(inventory);
  }

  private static void requireAmount(long amount) {
    if (amount <= 0 || amount > MAX_AMOUNT) {
      throw PlayerRejected.invalid(
          "amount must be between 1 and " + MAX_AMOUNT + ", was " + amount);
    }
  }

  private static void requireItem(String itemId, int quantity) {
    if (itemId == null || !ITEM_ID.matcher(itemId).matches()) {
      throw PlayerRejected.invalid(
          "itemId must be 1-64 lower-case letters, digits, '_' or '-', was '" + itemId + "'");
    }
    if (quantity <= 0 || quantity > MAX_QUANTITY) {
      throw PlayerRejected.invalid(
          "quantity must be between 1 and " + MAX_QUANTITY + ", was " + quantity);
    }
  }

  private static void requireNickname(String nickname) {
    if (nickname == null || !NICKNAME.matcher(nickname).matches()) {
      throw PlayerRejected.invalid(
          "nickname must be 3-16 letters, digits or '_', was '" + nickname + "'");
    }
  }

  private static String reason(String reason) {
    if (reason == null || reason.isBlank()) {
      return "unspecified";
    }
    if (reason.length() > MAX_REASON) {
      throw PlayerRejected.invalid("reason must be at most " + MAX_REASON + " characters");
    }
    return reason;
  }
}
