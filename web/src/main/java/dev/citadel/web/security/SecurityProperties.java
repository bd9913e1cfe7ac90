package dev.citadel.web.security;

import java.net.URI;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * How a service verifies callers and proves itself to others.
 *
 * @param issuer the {@code iss} every token must carry
 * @param serviceName the audience a service token must name to be accepted here; empty for an edge
 *     that accepts player tokens only (the gateway)
 * @param jwksUri member-service's public keys
 * @param queryTokenPaths paths where {@code ?access_token=} is read (WebSockets)
 * @param trustedProxies CIDRs of the proxies whose {@code X-Forwarded-For} is believed; from any
 *     other address the socket is the client
 * @param client this service's own credentials, for calling other services
 * @param keysRefresh how often member-service's public keys are fetched again
 */
@ConfigurationProperties("citadel.security")
public record SecurityProperties(
    @DefaultValue("citadel") String issuer,
    @DefaultValue("") String serviceName,
    URI jwksUri,
    @DefaultValue("/ws") List<String> queryTokenPaths,
    @DefaultValue List<String> trustedProxies,
    @DefaultValue Client client,
    @DefaultValue("5m") java.time.Duration keysRefresh) {

  /**
   * @param tokenUri member-service's token endpoint
   * @param id the registered client id (empty: this service calls no other)
   * @param secret its secret
   */
  public record Client(URI tokenUri, @DefaultValue("") String id, @DefaultValue("") String secret) {
    public boolean configured() {
      return tokenUri != null && !id.isBlank() && !secret.isBlank();
    }
  }
}
