package dev.citadel.match.archfixture.domain;

/** Fixture: a domain class that reaches for Reactor. */
public final class Impure {
  public reactor.core.publisher.Mono<String> value() {
    return reactor.core.publisher.Mono.just("impure");
  }
}
