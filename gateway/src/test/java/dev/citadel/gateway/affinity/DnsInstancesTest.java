package dev.citadel.gateway.affinity;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
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
}
