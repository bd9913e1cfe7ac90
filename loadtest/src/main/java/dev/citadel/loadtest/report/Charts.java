package dev.citadel.loadtest.report;

import dev.citadel.loadtest.observe.MetricsSampler;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** The report's PNG charts (JFreeChart, headless). */
public final class Charts {
  static final int WIDTH = 900;
  static final int HEIGHT = 450;

  private Charts() {}

  /** File names, in the order the report shows them. */
  public static final String THROUGHPUT = "throughput.png";

  public static final String LATENCY = "enqueue-to-room.png";
  public static final String SPREAD = "elo-spread.png";
  public static final String QUEUE_DEPTH = "queue-depth.png";

  /** Writes every chart of a bulk run into {@code dir}. */
  public static void write(BulkResult r, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    long end = Math.max(r.lastRoomMs(), r.enqueuedMs()) + 1;
    XYSeriesCollection rates = new XYSeriesCollection();
    rates.addSeries(
        series("players enqueued/s", Stats.perSecond(r.enqueueEvents(), r.startMs(), end)));
    rates.addSeries(
        series("players placed in rooms/s", Stats.perSecond(r.seatEvents(), r.startMs(), end)));
    save(
        ChartFactory.createXYLineChart(
            "Throughput over time",
            "seconds since the first enqueue",
            "players per second",
            rates,
            PlotOrientation.VERTICAL,
            true,
            false,
            false),
        dir.resolve(THROUGHPUT));

    save(
        histogram(
            "Enqueue-to-room time (" + r.enqueueToRoomSeconds().size() + " players)",
            "seconds",
            "players",
            Stats.histogram(r.enqueueToRoomSeconds(), 0.5),
            0.5),
        dir.resolve(LATENCY));
    save(
        histogram(
            "Elo spread per match (" + r.eloSpreads().size() + " matches)",
            "max - min Elo in the match",
            "matches",
            Stats.histogram(r.eloSpreads(), 10),
            10),
        dir.resolve(SPREAD));

    XYSeries depth = new XYSeries("players waiting");
    for (MetricsSampler.Point p : r.samples()) {
      depth.add((p.atMs() - r.startMs()) / 1000.0, p.queueDepth());
    }
    save(
        ChartFactory.createXYLineChart(
            "Queue depth",
            "seconds since the first enqueue",
            "players waiting",
            new XYSeriesCollection(depth),
            PlotOrientation.VERTICAL,
            false,
            false,
            false),
        dir.resolve(QUEUE_DEPTH));
  }

  private static XYSeries series(String name, List<Long> perSecond) {
    XYSeries s = new XYSeries(name);
    for (int i = 0; i < perSecond.size(); i++) {
      s.add(i, perSecond.get(i));
    }
    return s;
  }

  private static JFreeChart histogram(
      String title, String x, String y, Map<Double, Long> bins, double width) {
    XYSeries counts = new XYSeries(y);
    bins.forEach(counts::add);
    XYSeriesCollection data = new XYSeriesCollection(counts);
    data.setIntervalWidth(width);
    data.setIntervalPositionFactor(0); // a bar covers [edge, edge + width)
    return ChartFactory.createXYBarChart(
        title, x, false, y, data, PlotOrientation.VERTICAL, false, false, false);
  }

  private static void save(JFreeChart chart, Path file) throws IOException {
    chart.setBackgroundPaint(Color.WHITE);
    ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
  }
}
