package dev.citadel.gamestate.http;

import dev.citadel.gamestate.player.PlayerCommand;
import dev.citadel.gamestate.shop.Catalogue;
import dev.citadel.web.problem.ApiException;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;

/**
 * Turns a command name and a JSON object into a player command. Pure.
 *
 * <p>Players send intents only ({@link #PLAYER_COMMANDS}): buy from the catalogue at its price, use
 * or discard their own items. What adds value (gold, experience, items) is never a player's
 * command: game servers grant it on the internal API, and two-phase transactions built by the
 * server (gifts) use {@link #participantCommand}.
 */
public final class CommandParser {
  public static final List<String> PLAYER_COMMANDS =
      List.of("purchase", "use-item", "discard-item");

  private CommandParser() {}

  /** A command a player sends about themselves. */
  public static PlayerCommand playerCommand(
      String name, Map<String, Object> body, Catalogue catalogue) {
    Map<String, Object> b = body == null ? Map.of() : body;
    return switch (name) {
      case "purchase" -> {
        String itemId = text(b, "itemId");
        long price =
            catalogue
                .price(itemId)
                .orElseThrow(
                    () ->
                        new ApiException(
                            HttpStatus.NOT_FOUND, "no item '" + itemId + "' in the catalogue"));
        yield new PlayerCommand.Purchase(itemId, quantity(b), price);
      }
      case "use-item", "discard-item" ->
          new PlayerCommand.RemoveItem(text(b, "itemId"), quantity(b));
      default ->
          throw new ApiException(
              HttpStatus.NOT_FOUND,
              "no command '" + name + "'; players may send: " + String.join(", ", PLAYER_COMMANDS));
    };
  }

  /** One side of a server-built transaction (a gift's spend or earn). */
  public static PlayerCommand participantCommand(String name, Map<String, Object> args) {
    Map<String, Object> b = args == null ? Map.of() : args;
    return switch (name) {
      case "earn-gold" ->
          new PlayerCommand.EarnGold(integer(b, "amount"), optionalText(b, "reason"));
      case "spend-gold" ->
          new PlayerCommand.SpendGold(integer(b, "amount"), optionalText(b, "reason"));
      case "add-item" -> new PlayerCommand.AddItem(text(b, "itemId"), quantity(b));
      case "remove-item" -> new PlayerCommand.RemoveItem(text(b, "itemId"), quantity(b));
      case "rate-match" -> rateMatch(b);
      default -> throw ApiException.badRequest("unknown transaction step '" + name + "'");
    };
  }

  /** A player's part of a match result (built by the result coordinator, never by a client). */
  private static PlayerCommand rateMatch(Map<String, Object> b) {
    String outcome = text(b, "outcome");
    PlayerCommand.RatingRules rules =
        new PlayerCommand.RatingRules(
            small(b, "initialRating"),
            small(b, "k"),
            small(b, "provisionalK"),
            small(b, "provisionalGames"));
    long ppm = integer(b, "expectedPpm");
    if (ppm < 0 || ppm > 1_000_000) {
      throw ApiException.badRequest("'expectedPpm' must be between 0 and 1000000");
    }
    try {
      return new PlayerCommand.RateMatch(
          text(b, "matchId"),
          text(b, "queue"),
          dev.citadel.gamestate.player.Outcome.valueOf(outcome),
          ppm / 1_000_000.0,
          rules,
          integer(b, "gold"),
          integer(b, "experience"));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("'outcome' must be WIN, LOSS or DRAW");
    }
  }

  private static int small(Map<String, Object> b, String field) {
    long v = integer(b, field);
    if (v < 0 || v > 1_000_000) {
      throw ApiException.badRequest("'" + field + "' is out of range");
    }
    return (int) v;
  }

  static int quantity(Map<String, Object> b) {
    long q = integer(b, "quantity");
    if (q > Integer.MAX_VALUE || q < Integer.MIN_VALUE) {
      throw ApiException.badRequest("quantity is out of range");
    }
    return (int) q;
  }

  static long integer(Map<String, Object> b, String field) {
    Object v = b.get(field);
    if (v == null) {
      throw ApiException.badRequest("'" + field + "' is required");
    }
    if (v instanceof Integer || v instanceof Long || v instanceof Short) {
      return ((Number) v).longValue();
    }
    if (v instanceof BigInteger) {
      throw ApiException.badRequest("'" + field + "' is out of range");
    }
    throw ApiException.badRequest("'" + field + "' must be an integer, was " + describe(v));
  }

  static String text(Map<String, Object> b, String field) {
    Object v = b.get(field);
    if (v == null) {
      throw ApiException.badRequest("'" + field + "' is required");
    }
    if (!(v instanceof String s)) {
      throw ApiException.badRequest("'" + field + "' must be a string, was " + describe(v));
    }
    return s;
  }

  private static String optionalText(Map<String, Object> b, String field) {
    return b.get(field) == null ? null : text(b, field);
  }

  private static String describe(Object v) {
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Number) {
      return "the number " + v;
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v instanceof List) {
      return "an array";
    }
    if (v instanceof Map) {
      return "an object";
    }
    return String.valueOf(v);
  }
}
