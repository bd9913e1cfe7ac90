package dev.citadel.gamestate.aggregate;

import dev.citadel.eventstore.ConcurrencyConflict;
import dev.citadel.eventstore.StoreBusy;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** What an {@link AggregateHost} counts, tagged with its aggregate type. */
final class HostMeters {
  final Counter accepted;
  final Counter rejected;
  final Counter conflicts;
  final Counter failed;
  final Counter recovered;
  final Counter snapshotWrites;
  final Timer appendLatency;
  final Counter holdsTaken;
  final Counter holdsLapsed;

  /** Holds committed from the vote itself, stored by its coordinator's own append: no read. */
  final Counter committedUnread;

  final Counter readsFromMemory;
  final Counter readsCaughtUp;

  private final MeterRegistry meters;
  private final String type;
  private final Map<String, Counter> shed = new ConcurrentHashMap<>();

  HostMeters(MeterRegistry meters, String type, Map<String, ?> residents) {
    this.meters = meters;
    this.type = type;
    this.accepted = commands("accepted");
    this.rejected = commands("rejected");
    this.conflicts = commands("conflict");
    this.failed = commands("failed");
    this.recovered =
        Counter.builder("citadel_aggregate_recoveries").tag("type", type).register(meters);
    this.snapshotWrites =
        Counter.builder("citadel_aggregate_snapshots_written").tag("type", type).register(meters);
    this.appendLatency =
        Timer.builder("citadel_event_append_seconds")
            .tag("type", type)
            .publishPercentileHistogram()
            .register(meters);
    this.holdsTaken = holds("taken");
    this.holdsLapsed = holds("timed_out");
    this.committedUnread = holds("committed_from_vote");
    this.readsFromMemory = reads("current");
    this.readsCaughtUp = reads("caught_up");
    Gauge.builder("citadel_aggregates_resident", residents, Map::size)
        .tag("type", type)
        .register(meters);
  }

  /** A command that failed, by why: overload refusals are counted as shed, not here. */
  void commandFailed(Throwable e) {
    if (e instanceof ConcurrencyConflict) {
      conflicts.increment();
    } else if (e instanceof Rejection) {
      rejected.increment();
    } else if (!(e instanceof Overloaded) && !(e instanceof StoreBusy)) {
      failed.increment();
    }
  }

  /** Refused before any work: counted by the bound that refused it. */
  void countShed(Throwable e) {
    if (e instanceof Overloaded o) {
      shed.computeIfAbsent(o.reason(), this::shedCounter).increment();
    } else if (e instanceof StoreBusy) {
      shed.computeIfAbsent("store", this::shedCounter).increment();
    }
  }

  private Counter shedCounter(String reason) {
    return Counter.builder("citadel_requests_shed")
        .tag("type", type)
        .tag("reason", reason)
        .description("Requests refused at once (503) because a bound on waiting work was reached")
        .register(meters);
  }

  private Counter commands(String outcome) {
    return byOutcome("citadel_commands", "Commands handled, by outcome", outcome);
  }

  private Counter reads(String outcome) {
    return byOutcome(
        "citadel_aggregate_reads",
        "Reads of a loaded copy: current (answered from memory) or caught up",
        outcome);
  }

  private Counter holds(String outcome) {
    return Counter.builder("citadel_tx_holds")
        .tag("type", type)
        .tag("outcome", outcome)
        .register(meters);
  }

  private Counter byOutcome(String name, String description, String outcome) {
    return Counter.builder(name)
        .tag("type", type)
        .tag("outcome", outcome)
        .description(description)
        .register(meters);
  }
}
