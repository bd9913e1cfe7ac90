package dev.citadel.member.account;

import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/** The rules for nicknames and passwords. Pure. */
public final class Credentials {
  /** 3-16 letters, digits or '_'; unique across all players whatever the letter case. */
  public static final Pattern NICKNAME = Pattern.compile("[A-Za-z0-9_]{3,16}");

  public static final int MIN_PASSWORD = 8;

  /** bcrypt only reads the first 72 bytes; refuse longer rather than ignore the rest. */
  public static final int MAX_PASSWORD_BYTES = 72;

  private Credentials() {}

  public static String nickname(String nickname) {
    if (nickname == null || !NICKNAME.matcher(nickname).matches()) {
      throw new MemberRejected(
          MemberRejected.Kind.INVALID,
          "nickname must be 3-16 letters, digits or '_', was '" + nickname + "'");
    }
    return nickname;
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
