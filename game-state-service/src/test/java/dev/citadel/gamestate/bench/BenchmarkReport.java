package dev.citadel.gamestate.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** Collects a benchmark's figures, prints them and writes target/benchmarks/NAME.md. */
final class BenchmarkReport {
  private final String name;
  private final String title;
  private final List<String[]> rows = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();

  BenchmarkReport(String name, String title) {
    this.name = name;
    this.title = title;
  }

  BenchmarkReport row(String figure, String value) {
    rows.add(new String[] {figure, value});
    System.out.printf(Locale.ROOT, "[%s] %-48s %s%n", name, figure, value);
    return this;
  }

  BenchmarkReport note(String note) {
    notes.add(note);
    System.out.printf(Locale.ROOT, "[%s] %s%n", name, note);
    return this;
  }

  void write() {
    StringBuilder md = new StringBuilder("### " + title + "\n\n| figure | value |\n|---|---|\n");
    rows.forEach(r -> md.append("| ").append(r[0]).append(" | ").append(r[1]).append(" |\n"));
    if (!notes.isEmpty()) {
      md.append('\n');
      notes.forEach(n -> md.append("- ").append(n).append('\n'));
    }
    try {
      Path dir = Path.of("target", "benchmarks");
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(name + ".md"), md);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static String perSecond(double n) {
    return String.format(Locale.ROOT, "%,.0f/s", n);
  }

  static String millis(double ms) {
    return String.format(Locale.ROOT, "%.2f ms", ms);
  }

  static String ratio(double r) {
    return String.format(Locale.ROOT, "%.2fx", r);
  }

  /** The p-th percentile (0-100) of nanosecond samples, in milliseconds. */
  static double percentileMillis(long[] nanos, double p) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
  }

  static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(Double::compare);
    return sorted.get(sorted.size() / 2);
  }
}
