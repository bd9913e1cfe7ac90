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
 * answer for {@link #KEEP_LAST_ANSWER}: a DNS hiccup (a timeout, SERVFAIL) or a moment when every
 * pod is marked unready (a saturated cluster, the case the probes' "route to all when all fail" is
 * for) must not take every instance away at once. Past that the instances are gone for good (scaled
 * to zero, a deploy whose pods never became ready): none, so requests are refused at once instead
 * of waiting for connections to addresses another pod may have by now. Before any answer, none.
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
  private final java.util.function.LongSupplier nanos;
  private volatile List<URI> lastAnswer = List.of();
  private volatile long lastAnswerAt;

  /** How long the last answer stands in for failed or empty lookups. */
  static final java.time.Duration KEEP_LAST_ANSWER = java.time.Duration.ofSeconds(30);

  public DnsInstances(String name, int port) {
    this(name, port, InetAddress::getAllByName, System::nanoTime);
  }

  public DnsInstances(
      String name, int port, Resolver resolver, java.util.function.LongSupplier nanos) {
    this.name = name;
    this.port = port;
    this.resolver = resolver;
    this.nanos = nanos;
  }

  /**
   * How long a refresh waits for the lookup: past it, the lookup goes on in the background (one at
   * a time) and this refresh takes it as no answer (the last one stands, as above). A slow resolver
   * (ndots search lists, a CoreDNS timing out: tens of seconds) held every probe round behind it,
   * and an instance that died stayed in the list for minutes.
   */
  static final java.time.Duration LOOKUP_WAIT = java.time.Duration.ofSeconds(1);

  /** The lookup under way, if any: refreshes while it runs wait on it, none starts another. */
  private Mono<List<URI>> lookup;

  private synchronized Mono<List<URI>> lookup() {
    if (lookup != null) {
      return lookup;
    }
    java.util.concurrent.atomic.AtomicReference<Mono<List<URI>>> self =
        new java.util.concurrent.atomic.AtomicReference<>();
    Mono<List<URI>> started =
        Mono.fromCallable(() -> uris(resolver.resolve(name)))
            .subscribeOn(Schedulers.boundedElastic()) // resolving blocks
            .onErrorResume(
                UnknownHostException.class,
                e -> {
                  log.debug("{} does not resolve: {}", name, e.toString());
                  return Mono.just(List.of());
                })
            // Kept (an answer that came after its refresh stopped waiting counts too) and cleared
            // before it is handed on: a refresh right after it starts anew.
            .doOnSuccess(
                found -> {
                  if (found != null && !found.isEmpty()) {
                    answered(found);
                  }
                  lookedUp(self.get());
                })
            .doOnError(e -> lookedUp(self.get()))
            .cache();
    self.set(started);
    lookup = started;
    // Runs to its end, waited for or not.
    started.subscribe(found -> {}, e -> log.debug("{} not resolved: {}", name, e.toString()));
    return started;
  }

  private synchronized void lookedUp(Mono<List<URI>> done) {
    if (lookup == done) {
      lookup = null;
    }
  }

  private synchronized void answered(List<URI> found) {
    lastAnswer = found;
    lastAnswerAt = nanos.getAsLong();
  }

  @Override
  public Flux<URI> get() {
    return Mono.defer(this::lookup) // at subscription: a Flux subscribed again looks up again
        .timeout(
            LOOKUP_WAIT,
            Mono.fromSupplier(
                () -> {
                  log.debug("{} not resolved within {}: the last answer stands", name, LOOKUP_WAIT);
                  return List.<URI>of();
                }))
        .map(
            found -> {
              if (found.isEmpty()) {
                // None yet, or the last answer while it is recent: see the class comment.
                return nanos.getAsLong() - lastAnswerAt <= KEEP_LAST_ANSWER.toNanos()
                    ? lastAnswer
                    : List.<URI>of();
              }
              return found; // kept by the lookup itself (answered)
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
