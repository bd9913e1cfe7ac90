package dev.citadel.web.security;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.http.server.reactive.ServerHttpRequest;

/**
 * The address a request really comes from. {@code X-Forwarded-For} is believed only when the
 * socket's peer is a configured trusted proxy, and then read from the right: the first address that
 * is not a trusted proxy is the client (everything left of it was written by the client and proves
 * nothing). With no trusted proxies, the socket's peer is the client whatever the headers say.
 */
public final class ClientAddress {
  static final String FORWARDED_FOR = "X-Forwarded-For";
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

  /** An address range, e.g. {@code 10.0.0.0/8} or {@code ::1/128}. */
  record Cidr(byte[] network, int prefix) {
    static Cidr parse(String cidr) {
      String[] parts = cidr.trim().split("/", 2);
      byte[] address =
          literal(parts[0])
              .orElseThrow(() -> new IllegalArgumentException("not an IP range: " + cidr))
              .getAddress();
      int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : address.length * 8;
      if (prefix < 0 || prefix > address.length * 8) {
        throw new IllegalArgumentException("bad prefix length in " + cidr);
      }
      return new Cidr(address, prefix);
    }

    boolean contains(InetAddress address) {
      byte[] bytes = address.getAddress();
      if (bytes.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (bytes[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = 0xff << (8 - rest);
      return (bytes[full] & mask) == (network[full] & mask);
    }
  }

  private final List<Cidr> trusted;

  public ClientAddress(List<String> trustedProxies) {
    this.trusted = trustedProxies.stream().filter(s -> !s.isBlank()).map(Cidr::parse).toList();
  }

  /** The client's address as text (never null: {@code unknown} if there is none). */
  public String of(ServerHttpRequest request) {
    InetSocketAddress remote = request.getRemoteAddress();
    InetAddress peer = remote == null ? null : remote.getAddress();
    if (peer == null) {
      return "unknown";
    }
    return resolve(peer, request.getHeaders().getValuesAsList(FORWARDED_FOR)).getHostAddress();
  }

  /** Pure: the client given the socket's peer and the forwarded-for entries, left to right. */
  InetAddress resolve(InetAddress peer, List<String> forwardedFor) {
    if (!trusted(peer)) {
      return peer;
    }
    List<String> hops = new ArrayList<>();
    for (String header : forwardedFor) {
      for (String hop : header.split(",")) {
        if (!hop.isBlank()) {
          hops.add(hop.trim());
        }
      }
    }
    InetAddress client = peer;
    for (int i = hops.size() - 1; i >= 0; i--) {
      Optional<InetAddress> hop = literal(withoutPort(hops.get(i)));
      if (hop.isEmpty()) {
        return client; // garbage written by someone we do not trust: stop at the last good hop
      }
      client = hop.get();
      if (!trusted(client)) {
        return client;
      }
    }
    return client;
  }

  /**
   * A hop as some proxies write it, with a port ({@code 203.0.113.7:51234}, {@code
   * [2001:db8::1]:443}): the address alone. Read as garbage, it made every client the proxy itself:
   * one bucket for all, and one address's log-in limit shared by everyone.
   */
  static String withoutPort(String hop) {
    if (hop.startsWith("[")) {
      int end = hop.indexOf(']');
      return end > 0 ? hop.substring(1, end) : hop;
    }
    int colon = hop.indexOf(':');
    return colon > 0 && hop.indexOf(':', colon + 1) < 0 ? hop.substring(0, colon) : hop;
  }

  private boolean trusted(InetAddress address) {
    return trusted.stream().anyMatch(c -> c.contains(address));
  }

  /**
   * What limits count a client under: an IPv4 address as it is, an IPv6 address by its /64 (one
   * subscriber usually holds a whole /64, so counting single IPv6 addresses would let one client
   * rotate through millions of them). Anything that is not an IP literal is returned unchanged.
   */
  public static String bucket(String address) {
    Optional<InetAddress> ip = literal(address);
    if (ip.isEmpty() || ip.get().getAddress().length != 16) {
      return ip.map(InetAddress::getHostAddress).orElse(address);
    }
    byte[] b = ip.get().getAddress();
    StringBuilder prefix = new StringBuilder();
    for (int i = 0; i < 8; i += 2) {
      prefix.append(Integer.toHexString(((b[i] & 0xff) << 8) | (b[i + 1] & 0xff))).append(':');
    }
    return prefix.append(":/64").toString();
  }

  /** An IP literal, never a name: parsing must not start a DNS lookup. */
  public static Optional<InetAddress> literal(String text) {
    try {
      if (IPV4.matcher(text).matches()) {
        String[] parts = text.split("\\.");
        byte[] bytes = new byte[4];
        for (int i = 0; i < 4; i++) {
          int part = Integer.parseInt(parts[i]);
          if (part > 255) {
            return Optional.empty();
          }
          bytes[i] = (byte) part;
        }
        return Optional.of(InetAddress.getByAddress(bytes));
      }
      if (IPV6.matcher(text).matches()) {
        return Optional.of(InetAddress.getByName(text)); // a literal with ':' is never looked up
      }
    } catch (UnknownHostException | NumberFormatException e) {
      return Optional.empty();
    }
    return Optional.empty();
  }
}
