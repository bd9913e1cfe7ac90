package dev.citadel.gateway.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class DnsInstancesTest {
  @Test
  void every_address_of_the_name_is_an_instance() {
    assertThat(new DnsInstances("127.0.0.1", 8083).get().collectList().block())
        .containsExactly(URI.create("http://127.0.0.1:8083"));
  }

  @Test
  void an_unknown_name_means_no_instances_not_an_error() {
    assertThat(new DnsInstances("no-such-service.invalid", 8083).get().collectList().block())
        .isEmpty();
  }

  @Test
  void a_name_that_stops_resolving_keeps_its_last_answer_until_it_answers_again() throws Exception {
    InetAddress one = InetAddress.getByName("10.0.0.1");
    InetAddress two = InetAddress.getByName("10.0.0.2");
    AtomicReference<InetAddress[]> answer = new AtomicReference<>(new InetAddress[] {one, two});
    long[] now = {0};
    DnsInstances dns =
        new DnsInstances(
            "game-state",
            8083,
            name -> {
              InetAddress[] a = answer.get();
              if (a == null) {
                throw new UnknownHostException("Temporary failure in name resolution");
              }
              return a;
            },
            () -> now[0]);
    assertThat(dns.get().collectList().block()).hasSize(2);

    answer.set(null); // a DNS hiccup
    assertThat(dns.get().collectList().block()).as("kept").hasSize(2);
    answer.set(new InetAddress[0]); // every pod unready for a moment
    assertThat(dns.get().collectList().block()).as("kept").hasSize(2);

    answer.set(new InetAddress[] {two}); // one pod really went
    assertThat(dns.get().collectList().block()).containsExactly(URI.create("http://10.0.0.2:8083"));
  }

  /**
   * A resolver that does not answer (a DNS server timing out) holds a refresh for {@link
   * DnsInstances#LOOKUP_WAIT} only, the last answer standing, and never more than one lookup runs.
   */
  @Test
  void a_lookup_that_hangs_holds_no_refresh_and_runs_once() throws Exception {
    InetAddress one = InetAddress.getByName("10.0.0.1");
    java.util.concurrent.CountDownLatch answering = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger lookups =
        new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean hang =
        new java.util.concurrent.atomic.AtomicBoolean();
    DnsInstances dns =
        new DnsInstances(
            "game-state",
            8083,
            name -> {
              lookups.incrementAndGet();
              if (hang.get()) {
                try {
                  answering.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
              return new InetAddress[] {one};
            },
            System::nanoTime);
    assertThat(dns.get().collectList().block()).hasSize(1);

    hang.set(true);
    lookups.set(0);
    try {
      for (int i = 0; i < 3; i++) {
        assertThat(dns.get().collectList().block(java.time.Duration.ofSeconds(5)))
            .as("the last answer, in time")
            .containsExactly(URI.create("http://10.0.0.1:8083"));
      }
      assertThat(lookups.get()).as("one lookup under way, not one a refresh").isEqualTo(1);
    } finally {
      answering.countDown();
    }
  }

  /**
   * An answer that comes after its refresh stopped waiting is kept: the next refresh serves it (it
   * was dropped, and the next refresh had to look up again).
   */
  @Test
  void an_answer_that_comes_late_is_kept_for_the_next_refresh() throws Exception {
    InetAddress one = InetAddress.getByName("10.0.0.1");
    InetAddress two = InetAddress.getByName("10.0.0.2");
    java.util.concurrent.CountDownLatch answering = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger lookups =
        new java.util.concurrent.atomic.AtomicInteger();
    DnsInstances dns =
        new DnsInstances(
            "game-state",
            8083,
            name -> {
              if (lookups.incrementAndGet() == 1) {
                return new InetAddress[] {one};
              }
              if (lookups.get() == 2) {
                try {
                  answering.await(30, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                return new InetAddress[] {two}; // late
              }
              throw new UnknownHostException("Temporary failure in name resolution");
            },
            System::nanoTime);
    assertThat(dns.get().collectList().block()).containsExactly(URI.create("http://10.0.0.1:8083"));
    try {
      assertThat(dns.get().collectList().block(java.time.Duration.ofSeconds(5)))
          .as("not answered in time: the last answer")
          .containsExactly(URI.create("http://10.0.0.1:8083"));
    } finally {
      answering.countDown();
    }
    org.awaitility.Awaitility.await()
        .atMost(java.time.Duration.ofSeconds(10))
        .until(
            () ->
                dns.get()
                    .collectList()
                    .block()
                    .equals(List.of(URI.create("http://10.0.0.2:8083"))));
  }

  @Test
  void an_ipv6_address_is_a_url_with_a_host() throws Exception {
    InetAddress v6 = InetAddress.getByName("fd00::5");
    URI uri =
        new DnsInstances("game-state", 8080, name -> new InetAddress[] {v6}, System::nanoTime)
            .get()
            .blockFirst();
    assertThat(uri.getHost()).isEqualTo("[fd00:0:0:0:0:0:0:5]");
    assertThat(uri.getPort()).isEqualTo(8080);
  }
}
