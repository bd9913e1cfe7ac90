package dev.citadel.match.matcher;

/**
 * How far apart in Elo a match may be: {@code start} at first, widening by {@code perSecond} for
 * every second the match's longest-waiting player has waited, up to {@code cap}. Players wait a
 * little for a fair match and never forever.
 */
public record SkillWindow(int start, int perSecond, int cap) {
  public static final SkillWindow DEFAULT = new SkillWindow(100, 25, 1000);

  public int allowedSpread(long waitedMs) {
    long widened = start + perSecond * Math.max(0, waitedMs) / 1000;
    return (int) Math.min(cap, widened);
  }
}
