package dev.citadel.web.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClientAddressTest {
  static InetAddress ip(String s) {
    return ClientAddress.literal(s).orElseThrow();
  }

  @Test
  void without_trusted_proxies_the_socket_is_the_client_whatever_the_headers_say() {
    ClientAddress none = new ClientAddress(List.of());
    assertThat(none.resolve(ip("203.0.113.9"), List.of("1.2.3.4")).getHostAddress())
        .isEqualTo("203.0.113.9");
  }

  @Test
  void behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
    ClientAddress behindIngress = new ClientAddress(List.of("10.0.0.0/8"));
    // The client wrote "1.2.3.4"; the ingress (10.1.2.3) appended the client's real address.
    assertThat(
            behindIngress
                .resolve(ip("10.1.2.3"), List.of("1.2.3.4, 198.51.100.7"))
                .getHostAddress())
        .isEqualTo("198.51.100.7");
    // Two proxies of ours in a row.
    assertThat(
            behindIngress
                .resolve(ip("10.1.2.3"), List.of("198.51.100.7", "10.9.9.9"))
                .getHostAddress())
        .isEqualTo("198.51.100.7");
    // A request from outside the trusted range: its header is not believed.
    assertThat(behindIngress.resolve(ip("198.51.100.7"), List.of("1.2.3.4")).getHostAddress())
        .isEqualTo("198.51.100.7");
  }

  /** Some ingresses write the client's port too: the address is still the client's. */
  @Test
  void a_hop_written_with_its_port_is_the_address_without_it() {
    ClientAddress behindIngress = new ClientAddress(List.of("10.0.0.0/8"));
    assertThat(behindIngress.resolve(ip("10.0.0.5"), List.of("203.0.113.7:51234")).getHostAddress())
        .isEqualTo("203.0.113.7");
    assertThat(behindIngress.resolve(ip("10.0.0.5"), List.of("[2001:db8::1]:443")).getHostAddress())
        .isEqualTo("2001:db8:0:0:0:0:0:1");
    assertThat(behindIngress.resolve(ip("10.0.0.5"), List.of("2001:db8::2")).getHostAddress())
        .isEqualTo("2001:db8:0:0:0:0:0:2");
  }

  @Test
  void garbage_or_names_in_the_header_are_never_looked_up_and_never_believed() {
    ClientAddress behindIngress = new ClientAddress(List.of("10.0.0.0/8"));
    assertThat(
            behindIngress
                .resolve(ip("10.1.2.3"), List.of("example.com, 10.2.2.2"))
                .getHostAddress())
        .isEqualTo("10.2.2.2");
    assertThat(ClientAddress.literal("localhost")).isEmpty();
    assertThat(ClientAddress.literal("256.1.1.1")).isEmpty();
    assertThat(ClientAddress.literal("::1")).isPresent();
  }

  @Test
  void ranges_match_by_prefix() {
    ClientAddress.Cidr net = ClientAddress.Cidr.parse("192.168.4.0/22");
    assertThat(net.contains(ip("192.168.7.255"))).isTrue();
    assertThat(net.contains(ip("192.168.8.0"))).isFalse();
    assertThat(net.contains(ip("::1"))).isFalse();
    assertThat(ClientAddress.Cidr.parse("127.0.0.1").contains(ip("127.0.0.1"))).isTrue();
    assertThatThrownBy(() -> ClientAddress.Cidr.parse("10.0.0.0/33"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
