package dev.citadel.web.security;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.BodyInserters;
import org.springframework.web.reactive.function.client.ClientRequest;
import org.springframework.web.reactive.function.client.ExchangeFilterFunction;
import org.springframework.web.reactive.function.client.WebClient;
import reactor.core.publisher.Mono;

/**
 * This service's tokens for calling others: client credentials exchanged at member-service's token
 * endpoint, one token per audience, shared by every concurrent call and renewed a minute before it
 * expires. A call answered 401 drops the cached token, so the next call fetches a new one (after a
 * key rotation, say).
 */
public final class ServiceTokens {
  static final Duration RENEW_BEFORE = Duration.ofSeconds(60);
  static final Duration FETCH_TIMEOUT = Duration.ofSeconds(5);

  /** A token that could not be had: the call it was for fails with this. */
  public static final class Unavailable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private record Token(String value, Instant expiresAt) {}

  private final WebClient http;
  private final URI tokenUri;
  private final String clientId;
  private final String secret;
  private final Clock clock;
  private final Map<String, Mono<Token>> byAudience = new ConcurrentHashMap<>();

  public ServiceTokens(WebClient http, URI tokenUri, String clientId, String secret, Clock clock) {
    this.http = http;
    this.tokenUri = tokenUri;
    this.clientId = clientId;
    this.secret = secret;
    this.clock = clock;
  }

  /** A valid token for calling {@code audience}. */
  public Mono<String> token(String audience) {
    if (tokenUri == null || clientId.isBlank()) {
      return Mono.error(
          new Unavailable(
              "this service has no client credentials (citadel.security.client.*) to call "
                  + audience,
              null));
    }
    return byAudience.computeIfAbsent(audience, this::cached).map(Token::value);
  }

  /** Drops the cached token for {@code audience}: the callee refused it, the next call fetches. */
  public void forget(String audience) {
    byAudience.remove(audience);
  }

  /** Adds this service's token for {@code audience} to every request of a WebClient. */
  public ExchangeFilterFunction bearer(String audience) {
    return (request, next) ->
        token(audience)
            .flatMap(
                token ->
                    next.exchange(
                        ClientRequest.from(request).headers(h -> h.setBearerAuth(token)).build()))
            .doOnNext(
                response -> {
                  if (response.statusCode().value() == HttpStatus.UNAUTHORIZED.value()) {
                    byAudience.remove(audience);
                  }
                });
  }

  private Mono<Token> cached(String audience) {
    return fetch(audience)
        .cache(
            token -> {
              Duration left = Duration.between(clock.instant(), token.expiresAt());
              Duration keep = left.minus(RENEW_BEFORE);
              return keep.isNegative() ? Duration.ZERO : keep;
            },
            error -> Duration.ZERO,
            () -> Duration.ZERO);
  }

  private Mono<Token> fetch(String audience) {
    return Mono.defer(
        () -> {
          Instant asked = clock.instant();
          return http.post()
              .uri(tokenUri)
              .headers(h -> h.setBasicAuth(clientId, secret))
              .contentType(MediaType.APPLICATION_FORM_URLENCODED)
              .accept(MediaType.APPLICATION_JSON)
              .body(
                  BodyInserters.fromFormData("grant_type", "client_credentials")
                      .with("audience", audience))
              .retrieve()
              .bodyToMono(Map.class)
              .timeout(FETCH_TIMEOUT)
              .map(body -> token(body, asked))
              .onErrorMap(
                  e -> !(e instanceof Unavailable),
                  e ->
                      new Unavailable("no service token for " + audience + " from " + tokenUri, e));
        });
  }

  private static Token token(Map<?, ?> body, Instant asked) {
    Object value = body.get("access_token");
    Object expiresIn = body.get("expires_in");
    if (!(value instanceof String s) || !(expiresIn instanceof Number n)) {
      throw new Unavailable("the token endpoint answered without a token", null);
    }
    return new Token(s, asked.plusSeconds(n.longValue()));
  }
}
