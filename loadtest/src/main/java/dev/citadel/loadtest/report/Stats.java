package dev.citadel.loadtest.report;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;

/** Pure figures over samples: percentiles, histograms, per-second rates. */
public final class Stats {
  private Stats() {}

  /** The nearest-rank percentile of {@code values} (0 < p <= 100); NaN if empty. */
  public static double percentile(Collection<? extends Number> values, double p) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    double[] sorted = values.stream().mapToDouble(Number::doubleValue).sorted().toArray();
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** Counts per bin of width {@code width}, keyed by the bin's lower edge. */
  public static NavigableMap<Double, Long> histogram(
      Collection<? extends Number> values, double width) {
    NavigableMap<Double, Long> bins = new TreeMap<>();
    for (Number v : values) {
      double edge = Math.floor(v.doubleValue() / width) * width;
      bins.merge(edge, 1L, Long::sum);
    }
    return bins;
  }

  /** An event stream as events per second since {@code startMs}; every second present. */
  public static List<Long> perSecond(List<long[]> timedCounts, long startMs, long endMs) {
    int seconds = (int) Math.max(1, Math.ceil((endMs - startMs) / 1000.0));
    long[] buckets = new long[seconds];
    for (long[] tc : timedCounts) {
      int s = (int) ((tc[0] - startMs) / 1000);
      buckets[Math.max(0, Math.min(seconds - 1, s))] += tc[1];
    }
    List<Long> out = new ArrayList<>(seconds);
    for (long b : buckets) {
      out.add(b);
    }
    return out;
  }
}
