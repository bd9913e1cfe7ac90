package dev.citadel.match.domain;

/**
 * How far apart in Elo a match may be: {@code start} at first, widening by {@code perSecond} for
 * every second the match's longest-waiting player has waited, up to {@code cap}. Once that player
 * has waited {@code maxWaitMs}, any spread is accepted: the few players at the far ends of the Elo
 * range would otherwise never find nine others within the cap. Players wait a little for a fair
 * match and never forever.
 */
public record SkillWindow(int start, int perSecond, int cap, long maxWaitMs) {

  public int allowedSpread(long waitedMs) {
    if (waitedMs >= maxWaitMs) {
      return Integer.MAX_VALUE;
    }
    long widened = start + perSecond * Math.max(0, waitedMs) / 1000;
    return (int) Math.min(cap, widened);
  }
}
