package dev.citadel.gamestate.api;

import dev.citadel.gamestate.player.PlayerCommand;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Turns {@code POST .../commands/{name}} with a JSON object body into a player command. Pure. */
public final class CommandParser {
  public static final List<String> COMMANDS =
      List.of(
          "create",
          "gain-experience",
          "earn-gold",
          "spend-gold",
          "add-item",
          "remove-item",
          "set-nickname");

  private CommandParser() {}

  public static PlayerCommand parse(String name, Map<String, Object> body, Instant now) {
    Map<String, Object> b = body == null ? Map.of() : body;
    return switch (name) {
      case "create" -> new PlayerCommand.CreatePlayer(text(b, "nickname"), now);
      case "gain-experience" -> new PlayerCommand.GainExperience(integer(b, "amount"));
      case "earn-gold" ->
          new PlayerCommand.EarnGold(integer(b, "amount"), optionalText(b, "reason"));
      case "spend-gold" ->
          new PlayerCommand.SpendGold(integer(b, "amount"), optionalText(b, "reason"));
      case "add-item" -> new PlayerCommand.AddItem(text(b, "itemId"), quantity(b));
      case "remove-item" -> new PlayerCommand.RemoveItem(text(b, "itemId"), quantity(b));
      case "set-nickname" -> new PlayerCommand.SetNickname(text(b, "nickname"));
      default ->
          throw ApiException.badRequest(
              "unknown command '" + name + "'; known commands: " + String.join(", ", COMMANDS));
    };
  }

  private static int quantity(Map<String, Object> b) {
    long q = integer(b, "quantity");
    if (q > Integer.MAX_VALUE || q < Integer.MIN_VALUE) {
      throw ApiException.badRequest("quantity is out of range");
    }
    return (int) q;
  }

  private static long integer(Map<String, Object> b, String field) {
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

  private static String text(Map<String, Object> b, String field) {
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
