package dev.citadel.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class UnprocessableTest {
  @Test
  void found_anywhere_in_the_chain_of_causes() {
    assertThat(Unprocessable.in(new RuntimeException(new Unprocessable("bad")))).isTrue();
    assertThat(Unprocessable.in(new RuntimeException(new IllegalStateException()))).isFalse();
    assertThat(Unprocessable.in(null)).isFalse();
  }

  @Test
  void a_chain_of_causes_that_loops_ends_the_search_instead_of_looping_for_ever() throws Exception {
    RuntimeException a = new RuntimeException("a");
    IllegalStateException b = new IllegalStateException("b", a);
    a.initCause(b); // a -> b -> a
    Boolean found =
        CompletableFuture.supplyAsync(() -> Unprocessable.in(a))
            .get(Duration.ofSeconds(10).toMillis(), TimeUnit.MILLISECONDS);
    assertThat(found).isFalse();
  }
}
