package dev.citadel.gateway.routing;

import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferFactory;
import org.springframework.core.io.buffer.DataBufferUtils;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.MonoSink;

/** Copies each part as it comes and releases it; answers the sink once the body is over. */
final class BodyCopy extends BaseSubscriber<DataBuffer> {
  private final MonoSink<DataBuffer> sink;
  private final int max;
  private final boolean keep;
  private final DataBuffer whole;
  private final BodyBudget budget;
  private final String client;
  private long seen;
  private long taken; // of the budget (the buffer's capacity), given back once the body is read
  private boolean settled; // guarded by this
  private boolean timedOut; // guarded by this
  volatile reactor.core.Disposable alarm;

  /** {@code keep} false: nothing is kept, the body is read to be dropped (413). */
  BodyCopy(
      MonoSink<DataBuffer> sink,
      DataBufferFactory buffers,
      int max,
      boolean keep,
      int first,
      BodyBudget budget,
      String client) {
    this.sink = sink;
    this.max = max;
    this.keep = keep;
    this.budget = budget;
    this.client = client;
    this.whole = buffers.allocateBuffer(first);
    this.taken = first;
  }

  @Override
  protected void hookOnNext(DataBuffer part) {
    boolean overBudget = false;
    try {
      int n = part.readableByteCount();
      seen += n;
      if (keep && seen <= max) {
        synchronized (this) {
          // A cancel from another thread may have released the buffer already.
          if (!settled) {
            whole.write(part);
            // Counted as the buffer's capacity: grown (doubled), it holds more than was sent.
            long grown = whole.capacity() - taken;
            if (grown > 0) {
              overBudget = !budget.take(client, grown);
              if (!overBudget) {
                taken += grown;
              }
            }
          }
        }
      }
    } finally {
      DataBufferUtils.release(part);
    }
    if (overBudget) {
      cancel();
      sink.error(new WholeBodyFilter.OverBudget());
    } else if (seen > (long) max + WholeBodyFilter.SWALLOW_BYTES) {
      cancel();
      sink.error(WholeBodyFilter.tooLarge(max));
    }
  }

  /** The deadline passed before the body was whole: 408, the buffer released now. */
  void tooSlow() {
    synchronized (this) {
      if (settled) {
        return; // handed on, or released, already
      }
      settled = true;
      timedOut = true;
      DataBufferUtils.release(whole);
    }
    cancel(); // the rest is not read; hookFinally gives the budget back
    sink.error(new WholeBodyFilter.TooSlow());
  }

  private synchronized boolean timedOut() {
    return timedOut;
  }

  @Override
  protected void hookOnComplete() {
    if (timedOut()) {
      return; // answered 408 already
    }
    if (seen > max) {
      sink.error(WholeBodyFilter.tooLarge(max));
    } else if (whole.readableByteCount() == 0) {
      sink.success(); // nothing came: the body is empty
    } else if (handOn()) {
      sink.success(whole);
    }
  }

  @Override
  protected void hookOnError(Throwable e) {
    sink.error(e);
  }

  /** After the end, an error or a cancel (the client gone, the body too large). */
  @Override
  protected void hookFinally(reactor.core.publisher.SignalType type) {
    reactor.core.Disposable set = alarm;
    if (set != null) {
      set.dispose();
    }
    releaseUnlessHandedOn();
    synchronized (this) {
      budget.give(client, taken);
      taken = 0;
    }
  }

  /** Whether the buffer may be handed on: not released (a cancel) before. */
  private synchronized boolean handOn() {
    if (settled) {
      return false;
    }
    settled = true;
    return true;
  }

  /** Once: after the answer was handed on, the buffer is the receiver's. */
  private synchronized void releaseUnlessHandedOn() {
    if (!settled) {
      settled = true; // nobody else may hand it on or release it now
      DataBufferUtils.release(whole);
    }
  }
}
