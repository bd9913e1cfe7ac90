package dev.citadel.gateway.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.core.io.buffer.NettyDataBuffer;
import org.springframework.core.io.buffer.NettyDataBufferFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/** {@link WholeBodyFilter#whole}: one buffer, every part and every unused buffer released. */
class WholeBodyTest {
  /** Remembers what it allocated, to see it released. */
  static final class Buffers extends NettyDataBufferFactory {
    final List<NettyDataBuffer> allocated = new ArrayList<>();
    final List<Integer> sizes = new ArrayList<>();

    Buffers() {
      super(new UnpooledByteBufAllocator(false));
    }

    @Override
    public NettyDataBuffer allocateBuffer(int initialCapacity) {
      NettyDataBuffer b = super.allocateBuffer(initialCapacity);
      allocated.add(b);
      sizes.add(initialCapacity);
      return b;
    }
  }

  static final ByteBufAllocator PARTS = new UnpooledByteBufAllocator(false);
  static final java.time.Duration DEADLINE = java.time.Duration.ofSeconds(30);
  final reactor.test.scheduler.VirtualTimeScheduler TIMER =
      reactor.test.scheduler.VirtualTimeScheduler.create();
  final Buffers buffers = new Buffers();
  final BodyBudget budget = new BodyBudget(1 << 20, 1 << 20);

  @org.junit.jupiter.api.AfterEach
  void everyBodyGaveItsBudgetBack() {
    assertThat(budget.held()).isZero();
  }

  static NettyDataBuffer part(String text) {
    return new NettyDataBufferFactory(PARTS).wrap(PARTS.buffer().writeBytes(text.getBytes()));
  }

  static int refs(DataBuffer b) {
    return ((NettyDataBuffer) b).getNativeBuffer().refCnt();
  }

  @Test
  void the_parts_are_copied_into_one_buffer_and_released() {
    List<NettyDataBuffer> parts = List.of(part("{\"a\":"), part("12"), part("}"));

    DataBuffer whole =
        WholeBodyFilter.whole(
                Flux.fromIterable(parts), buffers, 100, -1, budget, "c", DEADLINE, TIMER)
            .block();

    assertThat(whole.toString(StandardCharsets.UTF_8)).isEqualTo("{\"a\":12}");
    assertThat(parts).allMatch(p -> refs(p) == 0);
    assertThat(refs(whole)).isEqualTo(1);
  }

  @Test
  void past_the_limit_it_fails_and_keeps_nothing() {
    List<NettyDataBuffer> parts = List.of(part("12345"), part("67890"), part("x"));

    assertThatThrownBy(
            () ->
                WholeBodyFilter.whole(
                        Flux.fromIterable(parts), buffers, 8, -1, budget, "c", DEADLINE, TIMER)
                    .block())
        .isInstanceOf(DataBufferLimitException.class);
    assertThat(buffers.allocated).singleElement().matches(b -> refs(b) == 0);
    assertThat(parts).allMatch(p -> refs(p) == 0);
  }

  /** Past the limit the body is still read to its end (a client still sending gets its 413). */
  @Test
  void past_the_limit_the_rest_is_read_and_dropped_before_the_answer() {
    Sinks.Many<DataBuffer> body = Sinks.many().unicast().onBackpressureBuffer();
    List<Throwable> failed = new ArrayList<>();
    WholeBodyFilter.whole(body.asFlux(), buffers, 8, -1, budget, "c", DEADLINE, TIMER)
        .subscribe(b -> {}, failed::add);
    body.tryEmitNext(part("123456789"));
    NettyDataBuffer more = part("more");
    body.tryEmitNext(more);

    assertThat(failed).as("no answer before the body is over").isEmpty();
    assertThat(refs(more)).isZero();

    body.tryEmitComplete();
    assertThat(failed).singleElement().isInstanceOf(DataBufferLimitException.class);
    assertThat(buffers.allocated).singleElement().matches(b -> refs(b) == 0);
  }

  @Test
  void a_client_gone_midway_leaves_nothing_held() {
    Sinks.Many<DataBuffer> body = Sinks.many().unicast().onBackpressureBuffer();
    Disposable reading =
        WholeBodyFilter.whole(body.asFlux(), buffers, 100, -1, budget, "c", DEADLINE, TIMER)
            .subscribe();
    NettyDataBuffer first = part("half");
    body.tryEmitNext(first);

    reading.dispose();

    assertThat(refs(first)).isZero();
    assertThat(buffers.allocated).singleElement().matches(b -> refs(b) == 0);
  }

  /**
   * As the gateway reads a body: Reactor Netty holds a reference of its own to each part while it
   * is handed on (released after), and Spring Cloud Gateway joins the whole body downstream, which
   * puts a hook in the Reactor context that releases every buffer an operator drops. Each part must
   * be released once by the copy and never by that hook too: a second release took Reactor Netty's
   * own reference, and its release then failed (IllegalReferenceCountException in FluxReceive).
   */
  @Test
  void under_a_join_each_part_is_released_once() {
    List<NettyDataBuffer> parts = List.of(part("{\"a\":"), part("12"), part("}"));
    parts.forEach(p -> p.getNativeBuffer().retain()); // Reactor Netty's own reference

    DataBuffer whole =
        org.springframework.core.io.buffer.DataBufferUtils.join(
                WholeBodyFilter.whole(
                        Flux.fromIterable(parts), buffers, 100, -1, budget, "c", DEADLINE, TIMER)
                    .flux())
            .block();

    assertThat(whole.toString(StandardCharsets.UTF_8)).isEqualTo("{\"a\":12}");
    assertThat(parts).allMatch(p -> refs(p) == 1);
  }

  @Test
  void under_a_join_a_body_past_the_limit_releases_each_part_once() {
    List<NettyDataBuffer> parts = List.of(part("12345"), part("67890"), part("x"));
    parts.forEach(p -> p.getNativeBuffer().retain());

    assertThatThrownBy(
            () ->
                org.springframework.core.io.buffer.DataBufferUtils.join(
                        WholeBodyFilter.whole(
                                Flux.fromIterable(parts),
                                buffers,
                                8,
                                -1,
                                budget,
                                "c",
                                DEADLINE,
                                TIMER)
                            .flux())
                    .block())
        .isInstanceOf(DataBufferLimitException.class);
    assertThat(parts).allMatch(p -> refs(p) == 1);
    assertThat(buffers.allocated).singleElement().matches(b -> refs(b) == 0);
  }

  /**
   * Bodies being read share a budget, counted as their buffers' capacity: past it a body is refused
   * (at once, or when its buffer would grow), and what it held is released and given back.
   */
  @Test
  void past_the_budget_a_body_is_refused_and_gives_back_what_it_held() {
    BodyBudget small = new BodyBudget(2 * 1024 + 10, 1 << 20);
    Sinks.Many<DataBuffer> slow = Sinks.many().unicast().onBackpressureBuffer();
    List<DataBuffer> done = new ArrayList<>();
    WholeBodyFilter.whole(slow.asFlux(), buffers, 4096, -1, small, "a", DEADLINE, TIMER)
        .subscribe(done::add);
    slow.tryEmitNext(part("12345678"));
    assertThat(small.held()).isEqualTo(1024);

    // A second body: its first kilobyte fits, its buffer grown to 2 KB does not.
    Sinks.Many<DataBuffer> second = Sinks.many().unicast().onBackpressureBuffer();
    List<Throwable> refused = new ArrayList<>();
    WholeBodyFilter.whole(second.asFlux(), buffers, 4096, -1, small, "b", DEADLINE, TIMER)
        .subscribe(b -> {}, refused::add);
    NettyDataBuffer tooMuch = part("x".repeat(1030));
    second.tryEmitNext(tooMuch);
    assertThat(refused).singleElement().isInstanceOf(WholeBodyFilter.OverBudget.class);
    assertThat(refs(tooMuch)).isZero();
    assertThat(buffers.allocated.get(1)).matches(b -> refs(b) == 0);
    assertThat(small.held()).isEqualTo(1024);

    // A third fits; a fourth's first kilobyte does not: refused before anything is read.
    List<Throwable> later = new ArrayList<>();
    WholeBodyFilter.whole(Flux.never(), buffers, 4096, -1, small, "c", DEADLINE, TIMER)
        .subscribe(b -> {}, later::add);
    WholeBodyFilter.whole(Flux.never(), buffers, 4096, -1, small, "d", DEADLINE, TIMER)
        .subscribe(b -> {}, later::add);
    assertThat(later).singleElement().isInstanceOf(WholeBodyFilter.OverBudget.class);

    slow.tryEmitComplete();
    assertThat(done).singleElement().matches(b -> b.readableByteCount() == 8);
    done.forEach(org.springframework.core.io.buffer.DataBufferUtils::release);
    assertThat(small.held()).isEqualTo(1024); // the third's, still reading
    assertThat(small.clients()).isEqualTo(1);
  }

  /** One client address cannot hold more than its share, whatever is left of the whole budget. */
  @Test
  void a_client_holds_at_most_its_share() {
    BodyBudget shared = new BodyBudget(1 << 20, 1500);
    List<Throwable> refused = new ArrayList<>();
    WholeBodyFilter.whole(Flux.never(), buffers, 4096, -1, shared, "one", DEADLINE, TIMER)
        .subscribe(b -> {}, refused::add);
    WholeBodyFilter.whole(Flux.never(), buffers, 4096, -1, shared, "one", DEADLINE, TIMER)
        .subscribe(b -> {}, refused::add);
    WholeBodyFilter.whole(Flux.never(), buffers, 4096, -1, shared, "other", DEADLINE, TIMER)
        .subscribe(b -> {}, refused::add);
    assertThat(refused).singleElement().isInstanceOf(WholeBodyFilter.OverBudget.class);
    assertThat(shared.held()).isEqualTo(2048);
  }

  /** A declared length is the buffer's size; one past the limit keeps nothing (413 after). */
  @Test
  void a_declared_length_sizes_the_buffer_and_one_past_the_limit_keeps_nothing() {
    DataBuffer whole =
        WholeBodyFilter.whole(
                Flux.just(part("12345")), buffers, 100, 5, budget, "c", DEADLINE, TIMER)
            .block();
    assertThat(whole.capacity()).isEqualTo(5);
    org.springframework.core.io.buffer.DataBufferUtils.release(whole);

    assertThatThrownBy(
            () ->
                WholeBodyFilter.whole(
                        Flux.just(part("12345"), part("67890")),
                        buffers,
                        8,
                        10,
                        budget,
                        "c",
                        DEADLINE,
                        TIMER)
                    .block())
        .isInstanceOf(DataBufferLimitException.class);
    assertThat(buffers.sizes).containsExactly(5, 1);
    assertThat(buffers.allocated).allMatch(b -> refs(b) == 0);
  }

  /** Not whole by the deadline: refused, what it read released, its budget given back. */
  @Test
  void a_body_not_whole_by_its_deadline_is_refused_and_holds_nothing() {
    Sinks.Many<DataBuffer> body = Sinks.many().unicast().onBackpressureBuffer();
    List<Throwable> failed = new ArrayList<>();
    WholeBodyFilter.whole(body.asFlux(), buffers, 100, -1, budget, "c", DEADLINE, TIMER)
        .subscribe(b -> {}, failed::add);
    body.tryEmitNext(part("half"));
    TIMER.advanceTimeBy(DEADLINE.minusMillis(1));
    assertThat(failed).isEmpty();
    TIMER.advanceTimeBy(java.time.Duration.ofMillis(1));
    assertThat(failed).singleElement().isInstanceOf(WholeBodyFilter.TooSlow.class);
    assertThat(buffers.allocated).singleElement().matches(b -> refs(b) == 0);
    // The rest arriving after the deadline is not read, nor handed on.
    NettyDataBuffer late = part("late");
    body.tryEmitNext(late);
    body.tryEmitComplete();
    assertThat(failed).hasSize(1);
  }

  /** Whole before the deadline: handed on, and the deadline does nothing later. */
  @Test
  void a_body_whole_in_time_is_handed_on_and_its_deadline_forgotten() {
    DataBuffer whole =
        WholeBodyFilter.whole(Flux.just(part("ok")), buffers, 100, -1, budget, "c", DEADLINE, TIMER)
            .block();
    TIMER.advanceTimeBy(DEADLINE.multipliedBy(2));
    assertThat(refs(whole)).isEqualTo(1);
    org.springframework.core.io.buffer.DataBufferUtils.release(whole);
  }

  @Test
  void no_bytes_is_no_body_and_nothing_held() {
    assertThat(
            WholeBodyFilter.whole(Flux.empty(), buffers, 100, -1, budget, "c", DEADLINE, TIMER)
                .blockOptional())
        .isEmpty();
    assertThat(buffers.allocated).singleElement().matches(b -> refs(b) == 0);
  }
}
