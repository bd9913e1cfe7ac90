package dev.citadel.match.matcher;

import dev.citadel.match.domain.Matchmaking;
import dev.citadel.match.domain.Ticket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A queue's waiting players in {@link Matchmaking#BY_ELO} order, in arrays: the tickets, and their
 * Elo and enqueue times as primitives, so a walk over a million players reads a few megabytes in
 * order instead of chasing a tree's pointers (a tick walks it whole). Changes are collected and
 * applied together by {@link #settle}: one merge of the (few) new players into the array, the (few)
 * gone ones found by binary search and skipped, into a second set of arrays that is reused.
 */
final class SortedWaiting {
  private final Map<String, Ticket> byPlayer = new HashMap<>();
  private final List<Ticket> added = new ArrayList<>();
  private final Set<Ticket> removed = Collections.newSetFromMap(new IdentityHashMap<>());
  private Ticket[] tickets = new Ticket[0];
  private int[] elos = new int[0];
  private long[] since = new long[0];
  private long[] prefixes = new long[0];
  private Ticket[] spareTickets = new Ticket[0];
  private int[] spareElos = new int[0];
  private long[] spareSince = new long[0];
  private long[] sparePrefixes = new long[0];
  private int size;

  /** {@code t} waits (again: its earlier ticket goes). */
  void put(Ticket t) {
    Ticket old = byPlayer.put(t.playerId(), t);
    if (old != null) {
      removed.add(old);
    }
    added.add(t);
  }

  /** The player no longer waits. */
  void remove(String playerId) {
    Ticket old = byPlayer.remove(playerId);
    if (old != null) {
      removed.add(old);
    }
  }

  void clear() {
    byPlayer.clear();
    added.clear();
    removed.clear();
    size = 0;
    Arrays.fill(tickets, null);
  }

  /** Whether the player waits (after the changes not settled yet too). */
  boolean contains(String playerId) {
    return byPlayer.containsKey(playerId);
  }

  /** How many wait (after the changes not settled yet too). */
  int waiting() {
    return byPlayer.size();
  }

  /** Applies the collected changes: afterwards the arrays hold exactly the waiting players. */
  void settle() {
    if (added.isEmpty() && removed.isEmpty()) {
      return;
    }
    // Where each change lands in the current arrays (binary search: a few per change), then one
    // pass that copies the runs between those places in bulk: no comparison per player.
    int[] gone = new int[removed.size()];
    int goneCount = 0;
    for (Ticket t : removed) {
      int i = search(t);
      if (i >= 0 && tickets[i] == t) {
        gone[goneCount++] = i;
      }
    }
    Arrays.sort(gone, 0, goneCount);
    List<Ticket> incoming = new ArrayList<>(added.size());
    for (Ticket t : added) {
      if (!removed.contains(t)) {
        incoming.add(t); // not both added and gone again before this settle
      }
    }
    incoming.sort(Matchmaking.BY_ELO);
    int[] at = new int[incoming.size()];
    for (int j = 0; j < at.length; j++) {
      int p = search(incoming.get(j));
      at[j] = p >= 0 ? p : -p - 1; // an equal one is this player's old ticket, gone
    }
    int next = size - goneCount + incoming.size();
    if (spareTickets.length < next) {
      int capacity = Math.max(16, next + next / 2);
      spareTickets = new Ticket[capacity];
      spareElos = new int[capacity];
      spareSince = new long[capacity];
      sparePrefixes = new long[capacity];
    }
    int src = 0;
    int dst = 0;
    int g = 0;
    int j = 0;
    while (src < size || j < at.length) {
      int stop = Math.min(g < goneCount ? gone[g] : size, j < at.length ? at[j] : size);
      int run = stop - src;
      if (run > 0) {
        System.arraycopy(tickets, src, spareTickets, dst, run);
        System.arraycopy(elos, src, spareElos, dst, run);
        System.arraycopy(since, src, spareSince, dst, run);
        System.arraycopy(prefixes, src, sparePrefixes, dst, run);
        src += run;
        dst += run;
      }
      if (j < at.length && at[j] == src) {
        Ticket t = incoming.get(j++);
        spareTickets[dst] = t;
        spareElos[dst] = t.elo();
        spareSince[dst] = t.enqueuedAtMs();
        sparePrefixes[dst] = prefix(t.playerId());
        dst++;
      } else if (g < goneCount && gone[g] == src) {
        src++;
        g++;
      }
    }
    int k = dst;
    Ticket[] oldTickets = tickets;
    int[] oldElos = elos;
    long[] oldSince = since;
    long[] oldPrefixes = prefixes;
    tickets = spareTickets;
    elos = spareElos;
    since = spareSince;
    prefixes = sparePrefixes;
    spareTickets = oldTickets;
    spareElos = oldElos;
    spareSince = oldSince;
    sparePrefixes = oldPrefixes;
    Arrays.fill(spareTickets, 0, Math.min(spareTickets.length, size), null); // no stale refs
    size = k;
    added.clear();
    removed.clear();
  }

  /**
   * Where {@code t} is (or would go) in the settled arrays, as {@link Arrays#binarySearch} answers,
   * in {@link Matchmaking#BY_ELO} order. Compares the primitive Elo and id prefix arrays first: a
   * comparator over the tickets would read a ticket object (a cache miss) at every step of every
   * search, and a tick at a million searches ten thousand times.
   */
  private int search(Ticket t) {
    int elo = t.elo();
    long prefix = prefix(t.playerId());
    int lo = 0;
    int hi = size - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = Integer.compare(elos[mid], elo);
      if (c == 0) {
        c = Long.compareUnsigned(prefixes[mid], prefix);
      }
      if (c == 0) {
        c = tickets[mid].playerId().compareTo(t.playerId());
      }
      if (c < 0) {
        lo = mid + 1;
      } else if (c > 0) {
        hi = mid - 1;
      } else {
        return mid;
      }
    }
    return -(lo + 1);
  }

  /**
   * The first four UTF-16 units of {@code id}, in {@link String#compareTo} order as an unsigned
   * number (a shorter id padded with zeros: ties are decided by the whole id).
   */
  static long prefix(String id) {
    long p = 0;
    for (int i = 0; i < 4; i++) {
      p = (p << 16) | (i < id.length() ? id.charAt(i) : 0);
    }
    return p;
  }

  /** The settled players in Elo order (valid until the next {@link #settle}). */
  Ticket[] tickets() {
    return tickets;
  }

  int[] elos() {
    return elos;
  }

  long[] since() {
    return since;
  }

  int size() {
    return size;
  }

  /** The settled players, in order: for tests. */
  List<Ticket> list() {
    return List.of(Arrays.copyOf(tickets, size));
  }
}
