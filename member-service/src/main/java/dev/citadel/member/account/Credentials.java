package dev.citadel.member.account;

import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/** The rules for nicknames and passwords. Pure. */
public final class Credentials {
  /** 3-16 ASCII letters, digits or '_'; unique across all players whatever the letter case. */
  public static final Pattern NICKNAME = Pattern.compile("[A-Za-z0-9_]{3,16}");

  public static final int MIN_PASSWORD = 8;

  /** bcrypt only reads the first 72 bytes; refuse longer rather than ignore the rest. */
  public static final int MAX_PASSWORD_BYTES = 72;

  private Credentials() {}

  /** A valid nickname as the player wrote it (its letter case is kept for display). */
  public static String nickname(String nickname) {
    if (nickname == null || !NICKNAME.matcher(nickname).matches()) {
      throw new MemberRejected(
          MemberRejected.Kind.INVALID, "nickname must be 3-16 letters, digits or '_'");
    }
    return nickname;
  }

  /**
   * The ONE form nicknames are compared in, at sign-up, log-in and rename: ASCII lower case of a
   * valid nickname. Empty for anything that is not a valid nickname (such a log-in matches no
   * account: no other case folding, Unicode's or the database's, gets a say).
   */
  public static Optional<String> canonical(String nickname) {
    if (nickname == null || !NICKNAME.matcher(nickname).matches()) {
      return Optional.empty();
    }
    return Optional.of(nickname.toLowerCase(Locale.ROOT));
  }

  public static String password(String password) {
    if (password == null || password.length() < MIN_PASSWORD) {
      throw new MemberRejected(
          MemberRejected.Kind.INVALID,
          "password must have at least " + MIN_PASSWORD + " characters");
    }
    if (password.getBytes(StandardCharsets.UTF_8).length > MAX_PASSWORD_BYTES) {
      throw new MemberRejected(
          MemberRejected.Kind.INVALID,
          "password must be at most " + MAX_PASSWORD_BYTES + " bytes in UTF-8");
    }
    return password;
  }
}
