package dev.citadel.member.login;

import dev.citadel.web.security.ClientAddress;
import dev.citadel.web.security.Scopes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * The client address of a request to member-service. The gateway resolves it (trusting only the
 * proxies configured there) and writes it as the only {@code X-Forwarded-For} entry; member-service
 * believes that header only when the request also carries the gateway's service token with {@value
 * Scopes#EDGE_FORWARD}. No address range is trusted: a pod (or anyone) that can reach
 * member-service cannot choose the address its log-ins are counted under.
 */
public final class EdgeAddress {
  private static final SimpleGrantedAuthority EDGE =
      new SimpleGrantedAuthority(Scopes.authority(Scopes.EDGE_FORWARD));

  public Mono<String> of(ServerWebExchange exchange) {
    return ReactiveSecurityContextHolder.getContext()
        .map(SecurityContext::getAuthentication)
        .filter(a -> a.isAuthenticated() && vouched(a))
        .map(a -> forwarded(exchange).orElseGet(() -> socket(exchange)))
        .defaultIfEmpty(socket(exchange));
  }

  private static boolean vouched(Authentication a) {
    return a.getAuthorities().contains(EDGE);
  }

  private static java.util.Optional<String> forwarded(ServerWebExchange exchange) {
    List<String> values = exchange.getRequest().getHeaders().getValuesAsList("X-Forwarded-For");
    return values.size() == 1
        ? ClientAddress.literal(values.get(0).trim()).map(InetAddress::getHostAddress)
        : java.util.Optional.empty();
  }

  private static String socket(ServerWebExchange exchange) {
    InetSocketAddress remote = exchange.getRequest().getRemoteAddress();
    return remote == null || remote.getAddress() == null
        ? "unknown"
        : remote.getAddress().getHostAddress();
  }
}
