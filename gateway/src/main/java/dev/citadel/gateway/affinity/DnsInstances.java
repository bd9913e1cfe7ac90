package dev.citadel.gateway.affinity;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.List;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Instances from DNS: in Kubernetes, a headless Service's name resolves to one A record per ready
 * pod, which is exactly the set affinity should hash over. No Kubernetes client needed.
 *
 * <p>A name that does not resolve, or resolves to nothing, after it resolved before keeps the last
 * answer: a DNS hiccup (a timeout, SERVFAIL) or a moment when every pod is marked unready (a
 * saturated cluster, the case the probes' "route to all when all fail" is for) must not take every
 * instance away at once; the probes drop the ones that really went. Before any answer, none.
 */
public final class DnsInstances implements Supplier<Flux<URI>> {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DnsInstances.class);

  /** Resolves a name to its addresses (the JDK's resolver, or one a test gives). */
  @FunctionalInterface
  public interface Resolver {
    InetAddress[] resolve(String name) throws UnknownHostException;
  }

  private final String name;
  private final int port;
  private final Resolver resolver;
  private volatile List<URI> lastAnswer = List.of();

  public DnsInstances(String name, int port) {
    this(name, port, InetAddress::getAllByName);
  }

  public DnsInstances(String name, int port, Resolver resolver) {
    this.name = name;
    this.port = port;
    this.resolver = resolver;
  }

  @Override
  public Flux<URI> get() {
    return Mono.fromCallable(() -> uris(resolver.resolve(name)))
        .subscribeOn(Schedulers.boundedElastic()) // resolving blocks
        .onErrorResume(
            UnknownHostException.class,
            e -> {
              log.debug("{} does not resolve: {}", name, e.toString());
              return Mono.just(List.of());
            })
        .map(
            found -> {
              if (found.isEmpty()) {
                return lastAnswer; // none yet, or the last answer: see the class comment
              }
              lastAnswer = found;
              return found;
            })
        .flatMapMany(Flux::fromIterable);
  }

  private List<URI> uris(InetAddress[] addresses) throws URISyntaxException {
    java.util.LinkedHashSet<URI> uris = new java.util.LinkedHashSet<>();
    for (InetAddress a : addresses) {
      // The URI constructor brackets an IPv6 address ("http://[fd00::5]:8080"); concatenated,
      // it would have no host at all.
      uris.add(new URI("http", null, a.getHostAddress(), port, null, null, null));
    }
    return List.copyOf(uris);
  }
}
