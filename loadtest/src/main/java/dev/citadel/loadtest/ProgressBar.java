package dev.citadel.loadtest;

import java.util.Locale;

/** One status line, redrawn in place: {@code [#####.....] 52% 52,000/100,000 ...}. */
final class ProgressBar {
  static final int WIDTH = 30;

  private ProgressBar() {}

  /** The line for {@code done} of {@code total}; pure. */
  static String render(String label, long done, long total, double seconds, String detail) {
    double fraction = total == 0 ? 1 : Math.min(1, (double) done / total);
    int filled = (int) Math.round(fraction * WIDTH);
    return String.format(
        Locale.ROOT,
        "%-8s [%s%s] %3d%% %,d/%,d  %5.1f s  %s",
        label,
        "#".repeat(filled),
        ".".repeat(WIDTH - filled),
        Math.round(fraction * 100),
        done,
        total,
        seconds,
        detail);
  }
}
