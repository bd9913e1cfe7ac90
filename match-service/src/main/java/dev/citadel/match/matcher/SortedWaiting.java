package dev.citadel.match.matcher;

import dev.citadel.match.domain.Matchmaking;
import dev.citadel.match.domain.Ticket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A queue's waiting players in {@link Matchmaking#BY_ELO} order, held in primitive arrays with no
 * object per player: a walk over a million players reads a few megabytes in order, and the
 * collector has nothing to trace or copy (a {@code Ticket} per player, with its strings and a hash
 * map entry, made every young collection scan a million references in the old generation and copy
 * the newcomers: 40-70 ms pauses at a million, the tick's p99). Each player has a slot (its Elo,
 * enqueue time and id, the id in a fixed-width byte array), found by id through an open-addressing
 * index. Changes are collected and applied together by {@link #settle}: the (few) gone players
 * found by search and skipped, the (few) new ones merged in, into a second set of arrays that is
 * reused. Tickets are built only for the players a tick takes ({@link #ticket}), without nicknames:
 * the copy keeps what matching reads.
 *
 * <p>One class, over 300 lines: the slots, the index and the sorted arrays change together on every
 * put, remove and settle, and split apart each would expose the others' invariants. Not thread-safe
 * (one tick at a time per copy).
 */
final class SortedWaiting {
  private static final byte LIVE = 1; // waiting: in the index
  private static final byte SORTED = 2; // in the sorted arrays
  private static final byte LONG_ID = 4; // its id is in longIds

  /** Bytes kept per slot for its id. */
  static final int ID_WIDTH = 40;

  // Slots, by slot number.
  private int[] slotElo = new int[16];
  private long[] slotSince = new long[16];
  private int[] slotIdLength = new int[16];
  private long[] slotPrefix2 = new long[16]; // the id's characters 4-7, as prefixes hold 0-3
  private byte[] slotState = new byte[16];
  private int slotsUsed;
  private int[] freeSlots = new int[16];
  private int freeCount;

  // Each slot's id in ID_WIDTH bytes when it fits (Latin-1, at most ID_WIDTH long: a UUID, with
  // a prefix); any other id as a string beside (rare: an object for that player only).
  private byte[] ids = new byte[16 * ID_WIDTH];
  private final Map<Integer, String> longIds = new HashMap<>();

  // Each waiting player's id hash (high half) and slot + 1 (0: empty), linear probing, at most
  // half full: a lookup reads the slot's id only when the hashes agree.
  private long[] index = new long[32];
  private int live;

  // Changes not settled yet: slots that joined, slots that left while in the sorted arrays.
  private int[] added = new int[16];
  private int addedCount;
  private int[] gone = new int[16];
  private int goneCount;

  // The settled players in order: their slots, Elo, enqueue times and id prefixes.
  private int[] order = new int[0];
  private int[] elos = new int[0];
  private long[] since = new long[0];
  private long[] prefixes = new long[0];
  private int[] spareOrder = new int[0];
  private int[] spareElos = new int[0];
  private long[] spareSince = new long[0];
  private long[] sparePrefixes = new long[0];
  private int size;

  /** {@code t} waits (again: its earlier ticket goes). */
  void put(Ticket t) {
    String id = t.playerId();
    int hash = id.hashCode();
    int at = find(id, hash);
    if (at >= 0) {
      leave(at);
    }
    int s = newSlot();
    slotElo[s] = t.elo();
    slotSince[s] = t.enqueuedAtMs();
    slotIdLength[s] = id.length();
    slotPrefix2[s] = prefix(id, 4);
    slotState[s] = fits(id) ? LIVE : LIVE | LONG_ID;
    if ((slotState[s] & LONG_ID) != 0) {
      longIds.put(s, id);
    } else {
      for (int i = 0, to = s * ID_WIDTH; i < id.length(); i++) {
        ids[to + i] = (byte) id.charAt(i);
      }
    }
    insert(s, hash);
    added = push(added, addedCount++, s);
  }

  /** The player no longer waits. */
  void remove(String playerId) {
    int at = find(playerId, playerId.hashCode());
    if (at >= 0) {
      leave(at);
    }
  }

  void clear() {
    Arrays.fill(slotState, 0, slotsUsed, (byte) 0);
    slotsUsed = 0;
    freeCount = 0;
    longIds.clear();
    Arrays.fill(index, 0);
    live = 0;
    addedCount = 0;
    goneCount = 0;
    size = 0;
  }

  /** Whether the player waits (after the changes not settled yet too). */
  boolean contains(String playerId) {
    return find(playerId, playerId.hashCode()) >= 0;
  }

  /** How many wait (after the changes not settled yet too). */
  int waiting() {
    return live;
  }

  /** Applies the collected changes: afterwards the arrays hold exactly the waiting players. */
  void settle() {
    if (addedCount == 0 && goneCount == 0) {
      return;
    }
    // Where each change lands in the current arrays (binary search: a few per change), then one
    // pass that copies the runs between those places in bulk: no comparison per player.
    // Both sets of changes in order, so each search starts where the last one ended.
    List<Integer> leaving = new ArrayList<>(goneCount);
    for (int k = 0; k < goneCount; k++) {
      leaving.add(gone[k]);
    }
    leaving.sort(this::compareSlots);
    int[] goneAt = new int[goneCount];
    for (int k = 0, from = 0; k < goneCount; k++) {
      int i = search(leaving.get(k), from);
      if (i < 0 || order[i] != leaving.get(k)) {
        throw new IllegalStateException("a player who left is not where its Elo puts it");
      }
      goneAt[k] = i;
      from = i + 1;
    }
    List<Integer> incoming = new ArrayList<>(addedCount);
    for (int k = 0; k < addedCount; k++) {
      int s = added[k];
      if ((slotState[s] & LIVE) != 0) {
        incoming.add(s);
      } else {
        free(s); // joined and left again before this settle
      }
    }
    incoming.sort(this::compareSlots);
    int[] at = new int[incoming.size()];
    for (int j = 0; j < at.length; j++) {
      int p = search(incoming.get(j), j == 0 ? 0 : at[j - 1]);
      at[j] = p >= 0 ? p : -p - 1; // an equal one is this player's old slot, gone
    }
    int next = size - goneAt.length + incoming.size();
    if (spareOrder.length < next) {
      int capacity = Math.max(16, next + next / 2);
      spareOrder = new int[capacity];
      spareElos = new int[capacity];
      spareSince = new long[capacity];
      sparePrefixes = new long[capacity];
    }
    int src = 0;
    int dst = 0;
    int g = 0;
    int j = 0;
    while (src < size || j < at.length) {
      int stop = Math.min(g < goneAt.length ? goneAt[g] : size, j < at.length ? at[j] : size);
      int run = stop - src;
      if (run > 0) {
        System.arraycopy(order, src, spareOrder, dst, run);
        System.arraycopy(elos, src, spareElos, dst, run);
        System.arraycopy(since, src, spareSince, dst, run);
        System.arraycopy(prefixes, src, sparePrefixes, dst, run);
        src += run;
        dst += run;
      }
      if (j < at.length && at[j] == src) {
        int s = incoming.get(j++);
        slotState[s] |= SORTED;
        spareOrder[dst] = s;
        spareElos[dst] = slotElo[s];
        spareSince[dst] = slotSince[s];
        sparePrefixes[dst] = prefix(s);
        dst++;
      } else if (g < goneAt.length && goneAt[g] == src) {
        src++;
        g++;
      }
    }
    int[] o = order;
    order = spareOrder;
    spareOrder = o;
    int[] e = elos;
    elos = spareElos;
    spareElos = e;
    long[] w = since;
    since = spareSince;
    spareSince = w;
    long[] p = prefixes;
    prefixes = sparePrefixes;
    sparePrefixes = p;
    size = dst;
    for (int k = 0; k < goneCount; k++) {
      free(gone[k]);
    }
    addedCount = 0;
    goneCount = 0;
  }

  /**
   * The settled player at {@code i} (in Elo order) as a ticket, built on each call, with no
   * nickname: the copy keeps only what matching reads (a match's players come from its pop).
   */
  Ticket ticket(int i) {
    return new Ticket(id(order[i]), elos[i], since[i], null);
  }

  private String id(int s) {
    if ((slotState[s] & LONG_ID) != 0) {
      return longIds.get(s);
    }
    return new String(ids, s * ID_WIDTH, slotIdLength[s], StandardCharsets.ISO_8859_1);
  }

  private static boolean fits(String id) {
    if (id.length() > ID_WIDTH) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      if (id.charAt(i) > 0xff) {
        return false;
      }
    }
    return true;
  }

  /** Character {@code i} of slot {@code s}'s id (below its length). */
  private char idChar(int s, int i) {
    if ((slotState[s] & LONG_ID) != 0) {
      return longIds.get(s).charAt(i);
    }
    return (char) (ids[s * ID_WIDTH + i] & 0xff);
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
    List<Ticket> all = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      all.add(ticket(i));
    }
    return all;
  }

  /**
   * The first four UTF-16 units of {@code id}, in {@link String#compareTo} order as an unsigned
   * number (a shorter id padded with zeros: ties are decided by the whole id).
   */
  static long prefix(String id) {
    return prefix(id, 0);
  }

  /** The same of the four UTF-16 units from {@code from}. */
  static long prefix(String id, int from) {
    long p = 0;
    for (int i = from; i < from + 4; i++) {
      p = (p << 16) | (i < id.length() ? id.charAt(i) : 0);
    }
    return p;
  }

  private long prefix(int s) {
    long p = 0;
    for (int i = 0; i < 4; i++) {
      p = (p << 16) | (i < slotIdLength[s] ? idChar(s, i) : 0);
    }
    return p;
  }

  /**
   * Where slot {@code s} is (or would go) in the settled arrays, as {@link Arrays#binarySearch}
   * answers, in {@link Matchmaking#BY_ELO} order, knowing it is not before {@code from}: steps of
   * 1, 2, 4... from there, then a binary search between the last two (a tick's changes in order lie
   * a hundred or so apart at a million, so each search stays near the last one's cache lines).
   * Compares the primitive Elo and id prefix arrays first, the ids only for ties.
   */
  private int search(int s, int from) {
    int elo = slotElo[s];
    long prefix = prefix(s);
    int lo = from;
    int bound = from;
    int step = 1;
    while (bound < size) {
      int c = compareAt(bound, s, elo, prefix);
      if (c == 0) {
        return bound;
      }
      if (c > 0) {
        break;
      }
      lo = bound + 1;
      bound = from + step;
      step <<= 1;
    }
    int hi = Math.min(bound, size) - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = compareAt(mid, s, elo, prefix);
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

  /** The settled player at {@code i} against slot {@code s} (its Elo and prefix given). */
  private int compareAt(int i, int s, int elo, long prefix) {
    int c = Integer.compare(elos[i], elo);
    if (c == 0) {
      c = Long.compareUnsigned(prefixes[i], prefix);
    }
    return c != 0 ? c : compareIds(order[i], s);
  }

  private int compareSlots(int a, int b) {
    int c = Integer.compare(slotElo[a], slotElo[b]);
    if (c == 0) {
      c = Long.compareUnsigned(prefix(a), prefix(b));
    }
    return c != 0 ? c : compareIds(a, b);
  }

  /**
   * The ids of two slots in {@link String#compareTo} order: their characters 4-7 as numbers first
   * (the first four are compared already, or equal), the ids only past those (one array read
   * instead of two: ids alike in their first characters, such as {@code m-} and two hex digits at a
   * million, would reach the ids at every step of a search).
   */
  private int compareIds(int a, int b) {
    int c = Long.compareUnsigned(slotPrefix2[a], slotPrefix2[b]);
    if (c != 0) {
      return c;
    }
    int la = slotIdLength[a];
    int lb = slotIdLength[b];
    for (int i = 0, n = Math.min(la, lb); i < n; i++) {
      char x = idChar(a, i);
      char y = idChar(b, i);
      if (x != y) {
        return x - y;
      }
    }
    return la - lb;
  }

  /** The player left: out of the index, and out of the arrays at the next settle. */
  private void leave(int at) {
    int s = (int) index[at] - 1;
    removeAt(at);
    live--;
    slotState[s] &= ~LIVE;
    if ((slotState[s] & SORTED) != 0) {
      gone = push(gone, goneCount++, s);
    } else {
      // joined since the last settle: freed at the next
    }
  }

  private int newSlot() {
    if (freeCount > 0) {
      return freeSlots[--freeCount]; // freed: its state is 0
    }
    if (slotsUsed == slotState.length) {
      int capacity = slotsUsed + slotsUsed / 2;
      slotElo = Arrays.copyOf(slotElo, capacity);
      slotSince = Arrays.copyOf(slotSince, capacity);
      slotIdLength = Arrays.copyOf(slotIdLength, capacity);
      ids = Arrays.copyOf(ids, capacity * ID_WIDTH);
      slotPrefix2 = Arrays.copyOf(slotPrefix2, capacity);
      slotState = Arrays.copyOf(slotState, capacity);
    }
    slotState[slotsUsed] = 0; // may be left from before a clear
    return slotsUsed++;
  }

  private void free(int s) {
    if ((slotState[s] & LONG_ID) != 0) {
      longIds.remove(s);
    }
    slotState[s] = 0;
    freeSlots = push(freeSlots, freeCount++, s);
  }

  private static int home(int hash, int mask) {
    int x = hash * 0x9E3779B9;
    return (x ^ (x >>> 16)) & mask;
  }

  /** The index position of the waiting player {@code id}, or -1. */
  private int find(String id, int hash) {
    int mask = index.length - 1;
    for (int at = home(hash, mask); ; at = (at + 1) & mask) {
      long e = index[at];
      if (e == 0) {
        return -1;
      }
      if ((int) (e >>> 32) == hash) {
        int s = (int) e - 1;
        if (slotIdLength[s] == id.length() && idEquals(s, id)) {
          return at;
        }
      }
    }
  }

  private boolean idEquals(int s, String id) {
    if ((slotState[s] & LONG_ID) != 0) {
      return longIds.get(s).equals(id);
    }
    for (int i = 0, at = s * ID_WIDTH; i < id.length(); i++) {
      if ((ids[at + i] & 0xff) != id.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private void insert(int s, int hash) {
    if ((live + 1) * 2 > index.length) {
      long[] old = index;
      index = new long[old.length * 2];
      for (long e : old) {
        if (e != 0) {
          place(e);
        }
      }
    }
    place(((long) hash << 32) | (s + 1));
    live++;
  }

  private void place(long entry) {
    int mask = index.length - 1;
    int at = home((int) (entry >>> 32), mask);
    while (index[at] != 0) {
      at = (at + 1) & mask;
    }
    index[at] = entry;
  }

  /** Empties an index position, moving later entries of the probe run back into the hole. */
  private void removeAt(int hole) {
    int mask = index.length - 1;
    index[hole] = 0;
    for (int j = (hole + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
      int h = home((int) (index[j] >>> 32), mask);
      boolean staysAfterHole = hole < j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (!staysAfterHole) {
        index[hole] = index[j];
        index[j] = 0;
        hole = j;
      }
    }
  }

  private static int[] push(int[] a, int at, int value) {
    if (at == a.length) {
      a = Arrays.copyOf(a, Math.max(16, at * 2));
    }
    a[at] = value;
    return a;
  }
}
