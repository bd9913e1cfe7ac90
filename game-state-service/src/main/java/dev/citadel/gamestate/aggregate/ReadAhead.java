package dev.citadel.gamestate.aggregate;

import dev.citadel.eventstore.StoredEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Several streams' newer events, read in one query ahead of the commits that apply them (see {@link
 * AggregateHost#readAhead}): for each stream, the sequence number it was read after and the events
 * found after it, in order. Pure.
 */
public final class ReadAhead {
  private static final ReadAhead NONE = new ReadAhead(Map.of(), Map.of());

  private final Map<String, Long> from;
  private final Map<String, List<StoredEvent>> events;

  private ReadAhead(Map<String, Long> from, Map<String, List<StoredEvent>> events) {
    this.from = from;
    this.events = events;
  }

  /** Nothing read ahead: every commit reads its own. */
  public static ReadAhead none() {
    return NONE;
  }

  /** {@code events}: the journal's events of these streams after each one's {@code from}. */
  static ReadAhead of(Map<String, Long> from, List<StoredEvent> events) {
    Map<String, List<StoredEvent>> byStream = new HashMap<>();
    for (StoredEvent e : events) {
      byStream.computeIfAbsent(e.aggregateId(), k -> new ArrayList<>()).add(e);
    }
    return new ReadAhead(Map.copyOf(from), byStream);
  }

  /** What the stream was read after; empty if it was not read ahead. */
  OptionalLong from(String id) {
    Long seq = from.get(id);
    return seq == null ? OptionalLong.empty() : OptionalLong.of(seq);
  }

  /** The events read for the stream after {@code seq}, in order. */
  List<StoredEvent> after(String id, long seq) {
    List<StoredEvent> all = events.getOrDefault(id, List.of());
    List<StoredEvent> newer = new ArrayList<>(all.size());
    for (StoredEvent e : all) {
      if (e.seq() > seq) {
        newer.add(e);
      }
    }
    return newer;
  }
}
