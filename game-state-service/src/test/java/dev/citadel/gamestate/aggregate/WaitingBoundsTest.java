package dev.citadel.gamestate.aggregate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** Waiting work is bounded: past the bound a caller is refused at once, before anything is done. */
class WaitingBoundsTest {

  @Test
  void a_full_mailbox_refuses_at_once_and_takes_work_again_when_it_drains() {
    Resident<String> player = new Resident<>("p1", "state", 0);
    Sinks.One<String> slow = Sinks.one();
    AtomicInteger ran = new AtomicInteger();
    AtomicReference<String> first = new AtomicReference<>();
    player
        .run(r -> slow.asMono().doOnSubscribe(s -> ran.incrementAndGet()), 0, 2)
        .subscribe(first::set);
    AtomicReference<String> second = new AtomicReference<>();
    player
        .run(r -> Mono.fromSupplier(() -> "second").doOnNext(x -> ran.incrementAndGet()), 0, 2)
        .subscribe(second::set);

    AtomicReference<Throwable> third = new AtomicReference<>();
    player
        .run(r -> Mono.fromSupplier(() -> "third").doOnNext(x -> ran.incrementAndGet()), 0, 2)
        .subscribe(x -> {}, third::set);
    assertThat(third.get()).isInstanceOf(Overloaded.class);
    assertThat(((Overloaded) third.get()).reason()).isEqualTo("mailbox");
    assertThat(ran.get()).as("only the first has started").isEqualTo(1);

    // Work that must never be refused still queues.
    AtomicReference<String> must = new AtomicReference<>();
    player.run(r -> Mono.just("must"), 0, Integer.MAX_VALUE).subscribe(must::set);

    slow.tryEmitValue("first");
    assertThat(first.get()).isEqualTo("first");
    assertThat(second.get()).isEqualTo("second");
    assertThat(must.get()).isEqualTo("must");
    AtomicReference<String> again = new AtomicReference<>();
    player.run(r -> Mono.just("again"), 0, 2).subscribe(again::set);
    assertThat(again.get()).isEqualTo("again");
  }

  @Test
  void loads_past_the_waiting_bound_are_refused_and_a_cancelled_wait_is_skipped() {
    ConcurrencyLimiter limiter = new ConcurrencyLimiter(1, 2);
    Sinks.One<String> slow = Sinks.one();
    AtomicReference<String> running = new AtomicReference<>();
    limiter.limit(slow.asMono()).subscribe(running::set);
    AtomicInteger started = new AtomicInteger();
    Disposable cancelled =
        limiter
            .limit(Mono.fromSupplier(() -> "cancelled").doOnNext(x -> started.incrementAndGet()))
            .subscribe();
    AtomicReference<String> waited = new AtomicReference<>();
    limiter
        .limit(Mono.fromSupplier(() -> "waited").doOnNext(x -> started.incrementAndGet()))
        .subscribe(waited::set);

    AtomicReference<Throwable> refused = new AtomicReference<>();
    limiter.limit(Mono.just("refused")).subscribe(x -> {}, refused::set);
    assertThat(refused.get()).isInstanceOf(Overloaded.class);

    cancelled.dispose(); // the caller gave up while it waited: its load never runs
    slow.tryEmitValue("running");
    assertThat(running.get()).isEqualTo("running");
    assertThat(waited.get()).isEqualTo("waited");
    assertThat(started.get()).as("only the wait nobody cancelled ran").isEqualTo(1);

    AtomicReference<String> later = new AtomicReference<>();
    limiter.limit(Mono.just("later")).subscribe(later::set);
    assertThat(later.get()).isEqualTo("later");
  }
}
