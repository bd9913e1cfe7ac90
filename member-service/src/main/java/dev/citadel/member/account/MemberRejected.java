package dev.citadel.member.account;

/** A request member-service refuses; the kind decides the HTTP status, in one place. */
public final class MemberRejected extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public enum Kind {
    INVALID,
    UNAUTHORIZED,
    NOT_FOUND,
    CONFLICT,
    /**
     * A keyed sign-up's key names an account made by another sign-up (another nickname, or the
     * password does not match): a conflict, and for the throttle a wrong password.
     */
    KEY_REUSED,
    /** Too much password hashing queued already: refused at once, to be retried shortly. */
    BUSY
  }

  private final Kind kind;

  public MemberRejected(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
