package dev.citadel.gateway.affinity;

import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.function.Supplier;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Instances from DNS: in Kubernetes, a headless Service's name resolves to one A record per ready
 * pod, which is exactly the set affinity should hash over. No Kubernetes client needed.
 */
public final class DnsInstances implements Supplier<Flux<URI>> {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DnsInstances.class);

  private final String name;
  private final int port;

  public DnsInstances(String name, int port) {
    this.name = name;
    this.port = port;
  }

  @Override
  public Flux<URI> get() {
    return Mono.fromCallable(() -> InetAddress.getAllByName(name))
        .subscribeOn(Schedulers.boundedElastic()) // resolving blocks
        .onErrorResume(
            UnknownHostException.class,
            e -> {
              // No ready pod yet (the headless Service has no address): no candidates this round.
              log.debug("{} does not resolve: {}", name, e.toString());
              return Mono.just(new InetAddress[0]);
            })
        .flatMapMany(addresses -> Flux.fromStream(Arrays.stream(addresses)))
        .map(a -> URI.create("http://" + a.getHostAddress() + ":" + port))
        .distinct();
  }
}
